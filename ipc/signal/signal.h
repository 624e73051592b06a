// ipc/signal: signals handled safely, child processes, and the signal-storm helper.
//
// Async-signal safety by construction: the only handlers ipclab installs either do nothing
// (NoopHandler: their whole purpose is to make a blocking call return EINTR) or write one byte to
// a non-blocking pipe (SelfPipe); everything else happens in ordinary code that polls the pipe or
// a signalfd. SA_RESTART is always an explicit choice (`Restart::kYes/kNo`), never a default.
//
// Behaviour of the blocking calls here when a signal arrives mid-call:
//   Child::Wait        retries after EINTR against its deadline;
//   SelfPipe/SignalFd::Wait  retries after EINTR against its deadline;
//   SignalStorm        sends from its own thread; the target sees EINTR only where it installed a
//                      handler with Restart::kNo.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ipc/sys/deadline.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"

namespace ipc::signal {

enum class Restart { kNo, kYes };

// Blocks `signals` in the calling thread for its lifetime (pthread_sigmask), then restores the
// thread's previous mask. Masks are per thread: a thread started inside the scope inherits it.
class ScopedSignalMask {
 public:
  explicit ScopedSignalMask(std::initializer_list<int> signals);
  ~ScopedSignalMask();
  ScopedSignalMask(const ScopedSignalMask&) = delete;
  ScopedSignalMask& operator=(const ScopedSignalMask&) = delete;

 private:
  sigset_t old_;
};

// Installs a handler for `signo` for its lifetime, then restores the previous action.
class ScopedHandler {
 public:
  static sys::Result<ScopedHandler> Install(int signo, void (*handler)(int), Restart restart);
  // A handler that does nothing: a blocking call interrupted by `signo` returns EINTR (kNo) or is
  // restarted by the kernel (kYes), and the process is not killed.
  static sys::Result<ScopedHandler> Noop(int signo, Restart restart);
  ScopedHandler(ScopedHandler&& o) noexcept;
  ScopedHandler& operator=(ScopedHandler&&) = delete;
  ~ScopedHandler();

 private:
  ScopedHandler(int signo, struct sigaction old) : signo_(signo), old_(old) {}
  int signo_ = 0;
  struct sigaction old_ {};
};

// The self-pipe trick: a handler that only writes the signal number to a non-blocking pipe, whose
// read end an event loop polls. One SelfPipe per process at a time (a handler cannot find an
// object, so the pipe lives in a process-wide slot); it may carry several signals.
class SelfPipe {
 public:
  static sys::Result<SelfPipe> Create(std::initializer_list<int> signals, Restart restart);
  SelfPipe(SelfPipe&&) noexcept;
  SelfPipe& operator=(SelfPipe&&) = delete;
  ~SelfPipe();

  int fd() const { return pipe_.read.get(); }  // poll for POLLIN
  // The signals delivered since the last call, in arrival order (never blocks). Signals of one
  // number that arrive while one is pending may merge, as the kernel merges standard signals.
  sys::Result<std::vector<int>> Drain();
  // Waits until at least one signal arrived or `deadline` passes (then an empty vector).
  sys::Result<std::vector<int>> Wait(sys::Deadline deadline);

 private:
  SelfPipe() = default;
  sys::PipeEnds pipe_;
  std::vector<ScopedHandler> handlers_;
};

// signalfd: the signals are blocked in the calling thread and read as siginfo records. For this
// to see process-directed signals every thread must block them (create it before starting
// threads, or block the signals in all of them).
class SignalFd {
 public:
  static sys::Result<SignalFd> Create(std::initializer_list<int> signals);
  int fd() const { return fd_.get(); }
  // Up to 16 pending signals; empty if none arrived by `deadline`.
  sys::Result<std::vector<signalfd_siginfo>> Wait(sys::Deadline deadline);
  ~SignalFd();
  SignalFd(SignalFd&&) noexcept = default;

 private:
  SignalFd() = default;
  sys::Fd fd_;
  sigset_t set_{};
  std::optional<sigset_t> old_mask_;
};

// Delivers `signo` to one thread (pthread_kill) or a process with a value (sigqueue).
sys::Status SendToThread(pthread_t thread, int signo);
sys::Status Queue(pid_t pid, int signo, int value);

// How a child ended.
struct ExitStatus {
  bool exited = false;  // normal exit (code valid)
  int code = 0;
  int signal = 0;       // the signal that killed it, when !exited
  bool ok() const { return exited && code == 0; }
  std::string Describe() const;  // "exit 0", "killed by SIGKILL"
};

// A child process handle: fork (running a function) or fork+exec, wait with a deadline, kill. The
// destructor of a still-running child kills it with SIGKILL and reaps it, so a failing test never
// leaves a process behind. Waiting uses a pidfd (poll) so it needs no SIGCHLD handler and does not
// steal other children's statuses.
class Child {
 public:
  // Runs `body` in a forked child, which then _exit()s with its return value (no atexit handlers,
  // no destructors of the parent's objects: the child must not unlink the parent's IPC objects).
  static sys::Result<Child> Fork(std::function<int()> body);
  // fork + execvp; the exec failure is reported back through a close-on-exec pipe as an error.
  static sys::Result<Child> Spawn(const std::vector<std::string>& argv);

  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !status_; }
  // Waits until the child ends; ETIMEDOUT once `deadline` passes (the child keeps running).
  sys::Result<ExitStatus> Wait(sys::Deadline deadline = sys::Deadline::Never());
  template <class Rep, class Period>
  sys::Result<ExitStatus> WaitFor(std::chrono::duration<Rep, Period> d) {
    return Wait(sys::Deadline::After(d));
  }
  sys::Status Kill(int signo = SIGKILL);

 private:
  Child(pid_t pid, sys::Fd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  void Destroy();
  pid_t pid_ = -1;
  sys::Fd pidfd_;
  std::optional<ExitStatus> status_;
};

// A SIGCHLD reaper for an event loop: watch pids, and on SIGCHLD (delivered through a SelfPipe or
// a SignalFd) call Reap(), which collects the statuses of the watched children that ended. It only
// waits for pids it watches, never waitpid(-1): other parts of the program keep their children.
class ChildReaper {
 public:
  void Watch(pid_t pid) { watched_.push_back(pid); }
  struct Reaped {
    pid_t pid;
    ExitStatus status;
  };
  sys::Result<std::vector<Reaped>> Reap();
  size_t watching() const { return watched_.size(); }

 private:
  std::vector<pid_t> watched_;
};

// A watchdog for tests: if not destroyed within `timeout`, SIGALRM writes "watchdog: <what> did
// not finish within N s" to stderr and aborts the process (a forked child dies with SIGABRT,
// which its parent reports). One per process at a time (alarm() is process-wide).
class ScopedAlarm {
 public:
  ScopedAlarm(std::chrono::seconds timeout, std::string_view what);
  ~ScopedAlarm();
  ScopedAlarm(const ScopedAlarm&) = delete;
  ScopedAlarm& operator=(const ScopedAlarm&) = delete;

 private:
  struct sigaction old_ {};
};

// Sends `signo` to a process (kill) or to one thread (pthread_kill) from a background thread as
// fast as it can, until `count` were sent or Stop(). The target must handle `signo` (e.g. with
// ScopedHandler::Noop(SIGUSR1, Restart::kNo)) or it dies. Used by tests and stress runs to check
// that blocking calls are EINTR-correct.
class SignalStorm {
 public:
  static SignalStorm AtProcess(pid_t pid, int signo, uint64_t count);
  static SignalStorm AtThread(pthread_t thread, int signo, uint64_t count);
  ~SignalStorm() { Stop(); }
  SignalStorm(SignalStorm&&) = delete;
  // Stops (if still running) and returns how many signals were sent.
  uint64_t Stop();
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  // Blocks until `count` were sent (or the target went away).
  uint64_t Join();

 private:
  SignalStorm(std::function<bool()> send, uint64_t count);
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

}  // namespace ipc::signal
