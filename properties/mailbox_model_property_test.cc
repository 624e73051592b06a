// Model-based (rc::state) property of the mailboxes (ipc/mailbox): a mailbox is a priority queue
// with a capacity. Random sequences of TrySend (any size up to past the limit, any priority up to
// past kMaxPriority), TryReceive and size() run against POSIX mq and SysV msg mailboxes and the
// model; a multi-process command forks a child that sends through the handle it inherited and is
// SIGKILLed: its message must be in the queue. The planted twin (planted_mailbox.h, a priority
// inversion) must be caught and shrunk to a short sequence.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "ipc/mailbox/mailbox.h"
#include "ipc/mailbox/posix_mq.h"
#include "ipc/mailbox/sysv_msg.h"
#include "properties/planted/planted_mailbox.h"

namespace {

using ipc::mailbox::Mailbox;

constexpr ipc::mailbox::Options kOptions{.capacity = 4, .max_message_size = 32};

struct Entry {
  std::vector<std::byte> data;
  unsigned priority;
};

struct MailboxModel {
  std::vector<Entry> queue;  // in arrival order
  // Index of what the next receive returns: highest priority, oldest first.
  std::size_t Next() const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < queue.size(); ++i) {
      if (queue[i].priority > queue[best].priority) best = i;
    }
    return best;
  }
};

struct MailboxSut {
  std::unique_ptr<Mailbox> box;
  bool multiprocess = true;
};

using Cmd = rc::state::Command<MailboxModel, MailboxSut>;

std::vector<std::byte> Bytes(std::size_t len, unsigned salt) {
  std::vector<std::byte> v(len);
  for (std::size_t i = 0; i < len; ++i) v[i] = std::byte(salt * 31 + i);
  return v;
}

struct TrySend : Cmd {
  std::size_t len = *rc::gen::inRange<std::size_t>(0, kOptions.max_message_size + 3);
  unsigned priority = *rc::gen::inRange<unsigned>(0, ipc::mailbox::kMaxPriority + 3);
  std::vector<std::byte> data = Bytes(len, *rc::gen::inRange(0u, 256u));
  bool Accepted(const MailboxModel& m) const {
    return len <= kOptions.max_message_size && priority <= ipc::mailbox::kMaxPriority &&
           m.queue.size() < kOptions.capacity;
  }
  void apply(MailboxModel& m) const override {
    if (Accepted(m)) m.queue.push_back({data, priority});
  }
  void run(const MailboxModel& m, MailboxSut& sut) const override {
    auto r = sut.box->TrySend(data, priority);
    if (len > kOptions.max_message_size) {
      RC_ASSERT(!r && r.error().err == EMSGSIZE);
    } else if (priority > ipc::mailbox::kMaxPriority) {
      RC_ASSERT(!r && r.error().err == EINVAL);
    } else if (m.queue.size() >= kOptions.capacity) {
      RC_ASSERT(!r && r.error().err == EAGAIN);
    } else {
      RC_ASSERT(r.has_value());
    }
  }
  void show(std::ostream& os) const override { os << "TrySend(" << len << " bytes, priority " << priority << ")"; }
};

struct TryReceive : Cmd {
  void apply(MailboxModel& m) const override {
    if (!m.queue.empty()) m.queue.erase(m.queue.begin() + static_cast<std::ptrdiff_t>(m.Next()));
  }
  void run(const MailboxModel& m, MailboxSut& sut) const override {
    auto r = sut.box->TryReceive();
    if (m.queue.empty()) {
      RC_ASSERT(!r && r.error().err == EAGAIN);
      return;
    }
    const Entry& want = m.queue[m.Next()];
    RC_ASSERT(r.has_value());
    RC_ASSERT(r->priority == want.priority);
    RC_ASSERT(r->data == want.data);
  }
  void show(std::ostream& os) const override { os << "TryReceive()"; }
};

struct Size : Cmd {
  void run(const MailboxModel& m, MailboxSut& sut) const override {
    auto n = sut.box->size();
    RC_ASSERT(n.has_value());
    RC_ASSERT(*n == m.queue.size());
  }
  void show(std::ostream& os) const override { os << "size()"; }
};

// A child process sends through the handle it inherited, then is SIGKILLed.
struct SendFromKilledChild : Cmd {
  unsigned priority = *rc::gen::inRange<unsigned>(0, ipc::mailbox::kMaxPriority + 1);
  std::vector<std::byte> data = Bytes(*rc::gen::inRange<std::size_t>(0, 9), priority);
  void checkPreconditions(const MailboxModel& m) const override {
    RC_PRE(m.queue.size() < kOptions.capacity);
  }
  void apply(MailboxModel& m) const override { m.queue.push_back({data, priority}); }
  void run(const MailboxModel&, MailboxSut& sut) const override {
    if (!sut.multiprocess) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      if (!sut.box->TrySend(data, priority)) _exit(3);
      ::raise(SIGKILL);
      _exit(4);
    }
    RC_ASSERT(pid > 0);
    int status = 0;
    RC_ASSERT(::waitpid(pid, &status, 0) == pid);
    RC_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  void show(std::ostream& os) const override {
    os << "SendFromKilledChild(" << data.size() << " bytes, priority " << priority << ")";
  }
};

std::size_t g_last_failing_length = 0;

template <class Make>
void RunSequence(Make make, bool multiprocess) {
  MailboxSut sut{make(), multiprocess};
  RC_ASSERT(sut.box != nullptr);
  MailboxModel model;
  auto cmds = multiprocess
                  ? *rc::state::gen::commands(model, rc::state::gen::execOneOfWithArgs<TrySend, TryReceive, Size, SendFromKilledChild>())
                  : *rc::state::gen::commands(model, rc::state::gen::execOneOfWithArgs<TrySend, TryReceive, Size>());
  try {
    rc::state::runAll(cmds, model, sut);
  } catch (...) {
    g_last_failing_length = cmds.size();
    throw;
  }
}

std::unique_ptr<Mailbox> MakePosix() {
  auto b = ipc::mailbox::PosixMqMailbox::Create("rcprop", kOptions);
  if (!b) throw std::runtime_error(b.error().message());
  return std::move(*b);
}
std::unique_ptr<Mailbox> MakeSysv() {
  auto b = ipc::mailbox::SysvMsgMailbox::Create("rcprop", kOptions);
  if (!b) throw std::runtime_error(b.error().message());
  return std::move(*b);
}

RC_GTEST_PROP(MailboxModel, PosixMqIsAPriorityQueueWithCapacity, ()) { RunSequence(MakePosix, true); }

RC_GTEST_PROP(MailboxModel, SysvMsgIsAPriorityQueueWithCapacity, ()) { RunSequence(MakeSysv, true); }

TEST(MailboxModel, FindsPlantedPriorityInversionAndShrinksIt) {
  g_last_failing_length = 0;
  bool passed = rc::check("planted priority inversion", [] {
    RunSequence([] { return std::unique_ptr<Mailbox>(new properties::planted::InvertedPriorityMailbox(kOptions)); },
                false);
  });
  EXPECT_FALSE(passed) << "the property missed the planted priority inversion";
  // Minimal: TrySend(priority >= 16), TrySend(lower priority that wins mod 16), TryReceive.
  EXPECT_GT(g_last_failing_length, 0u);
  EXPECT_LE(g_last_failing_length, 4u) << "counterexample not shrunk";
}

}  // namespace
