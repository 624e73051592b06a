#include "problems/echo/echo.h"

#include "lab/sync/sync.h"
#include "problems/model/mailbox.h"

namespace problems {
namespace {

constexpr int kLines = 3;
constexpr int kGoodbye = -1;
constexpr int kGreeting = 0;

using model::Mailbox;
using model::Message;

void Run(bool client_waits_for_greeting) {
  Mailbox<2> requests, replies;
  lab::Thread server([&] {
    for (;;) {
      const Message m = requests.Receive();
      if (m.value == kGoodbye) return;
      replies.Send({0, m.value});  // the echo
    }
  });
  lab::Thread client([&] {
    if (client_waits_for_greeting) {
      // BUG: this client expects the server to speak first (as an SMTP server would); this
      // server speaks only when spoken to.
      LAB_ASSERT_MSG(replies.Receive().value == kGreeting, "the greeting was not a greeting");
    }
    for (int line = 1; line <= kLines; ++line) {
      requests.Send({1, line});
      LAB_ASSERT_MSG(replies.Receive().value == line, "the echo differs from the line sent");
    }
    requests.Send({1, kGoodbye});
  });
  client.join();
  server.join();
}

}  // namespace

void RegisterEcho(Catalogue& catalogue) {
  const std::string doc = "docs/problems/echo.md";
  const Exploration budget = {.strategy = "pct", .iterations = 100, .depth = 3};
  catalogue.Add({
      .name = "echo/request_reply",
      .expected = "clean",
      .description = "the client sends a line and reads its echo, kLines times, then goodbye",
      .explanation =
          "Both sides agree who speaks first, and every request gets exactly one reply before the "
          "next is sent, so neither side ever waits for a message the other will not send.",
      .doc = doc,
      .exploration = {.strategy = "dfs"},  // every interleaving (90)
      .body = [] { Run(/*client_waits_for_greeting=*/false); },
  });
  catalogue.Add({
      .name = "echo/both_wait_to_read",
      .expected = "deadlock",
      .description = "the client waits for a greeting, the server for the first request",
      .explanation =
          "Each side blocks in receive waiting for the other to send first. Fix: agree on the "
          "protocol: who speaks first, and what ends a conversation.",
      .doc = doc,
      .exploration = budget,
      .body = [] { Run(/*client_waits_for_greeting=*/true); },
  });
}

}  // namespace problems
