// ipc/testing/process.h: helpers for multi-process tests (testonly).
//
// Watchdog: a test that could hang holds one; if it is still alive after its time, the process
// prints "hang: <what> did not finish within <N> s" (plus any note set since), SIGKILLs every
// child made with ForkChild, and exits 1, so a hung test fails with a diagnosis instead of
// hanging until Bazel's timeout. It uses alarm(2): one per process at a time, no thread (a forked
// child of a multithreaded process is fragile), and forked children do not inherit it.
//
// ForkChild: runs a body in a forked child that leaves with _exit(body's return), never running
// the parent's atexit handlers or GoogleTest's teardown. Child waits with a timeout and kills
// (SIGKILL) and reaps on destruction if it was not waited for.
//
//   Watchdog dog(std::chrono::seconds(10), "robust mutex recovery");
//   auto child = ForkChild([&] { return DoChildWork() ? 0 : 1; });
//   ASSERT_TRUE(child.has_value());
//   auto status = child->Wait(std::chrono::seconds(5));
//   EXPECT_EQ(ExitCode(*status), 0);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "ipc/sys/sys.h"

namespace ipc::testing {

class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::string_view what);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  // Replaces the note printed with the diagnosis: what the test is waiting for now.
  static void Note(std::string_view note);
};

class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // Waits for the child to end: its wait status. ETIMEDOUT if it has not ended in time (it is
  // left running; the destructor kills it).
  sys::Result<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL and reap: the wait status.
  sys::Result<int> Kill(int sig = 9);

 private:
  pid_t pid_;
};

// fork(); the child runs `body` and _exits with its result (0-255).
sys::Result<Child> ForkChild(std::function<int()> body);

// The exit code of a wait status, or -signal if the child was killed by a signal.
int ExitCode(int wait_status);

}  // namespace ipc::testing
