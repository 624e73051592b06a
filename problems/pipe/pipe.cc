#include "problems/pipe/pipe.h"

#include <optional>

#include "lab/sync/sync.h"
#include "problems/model/mailbox.h"

namespace problems {
namespace {

constexpr int kValues = 3;

enum class Mistake { kNone, kParentKeepsWriteEnd, kChildKeepsWriteEnd };

void Run(Mistake mistake) {
  model::Pipe pipe;
  lab::Shared<int> sum{0};
  pipe.DupWriteEnd();  // fork(): the child inherits a copy of the write end
  lab::Thread child([&] {
    if (mistake != Mistake::kChildKeepsWriteEnd) pipe.CloseWriteEnd();  // close(fd[1])
    int total = 0;
    while (std::optional<int> v = pipe.Read()) total += *v;  // until read() returns 0
    sum.write(total);
  });
  for (int i = 1; i <= kValues; ++i) pipe.Write(i);
  if (mistake != Mistake::kParentKeepsWriteEnd) pipe.CloseWriteEnd();  // close(fd[1])
  child.join();  // waitpid(child)
  LAB_ASSERT_MSG(sum.read() == kValues * (kValues + 1) / 2, "the child summed the wrong values");
}

}  // namespace

void RegisterPipe(Catalogue& catalogue) {
  const std::string doc = "docs/problems/pipe.md";
  const Exploration budget = {.strategy = "pct", .iterations = 100, .depth = 3};
  catalogue.Add({
      .name = "pipe/close_unused_ends",
      .expected = "clean",
      .description = "child closes its inherited write end; parent closes its own before waiting",
      .explanation =
          "Once the last write end is closed the child's read() returns 0, its loop ends and it "
          "exits, so the parent's waitpid() returns.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 1000, .depth = 3},
      .body = [] { Run(Mistake::kNone); },
  });
  catalogue.Add({
      .name = "pipe/parent_keeps_write_end",
      .expected = "deadlock",
      .description = "parent calls waitpid() before closing its write end: both wait forever",
      .explanation =
          "The child reads until end-of-file, which needs every write end closed; the parent "
          "still holds one and is blocked in waitpid() waiting for the child. Each waits for the "
          "other. Fix: close(fd[1]) in the parent when it is done writing, before waitpid().",
      .doc = doc,
      .exploration = budget,
      .body = [] { Run(Mistake::kParentKeepsWriteEnd); },
  });
  catalogue.Add({
      .name = "pipe/child_keeps_write_end",
      .expected = "deadlock",
      .description = "the child never closes the write end it inherited: it waits for itself",
      .explanation =
          "fork() duplicated the write end; the child's own copy keeps the pipe open, so its "
          "read() blocks for ever once the data is consumed. Fix: close the unused end first "
          "thing after fork(), in both processes.",
      .doc = doc,
      .exploration = budget,
      .body = [] { Run(Mistake::kChildKeepsWriteEnd); },
  });
}

}  // namespace problems
