#include "ipc/signal/signal.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

namespace ipc::signal {
namespace {

sigset_t SetOf(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}

// The process-wide write end the SelfPipe handler writes to (-1: none).
std::atomic<int> g_self_pipe_fd{-1};

void SelfPipeHandler(int signo) {
  int saved = errno;  // the interrupted code may be between a call and its errno check
  int fd = g_self_pipe_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    unsigned char b = static_cast<unsigned char>(signo);
    // Non-blocking: if the pipe is full the loop has plenty of wakeups pending already.
    [[maybe_unused]] ssize_t n = ::write(fd, &b, 1);
  }
  errno = saved;
}

void NoopHandlerFn(int) {}

sys::Result<std::vector<int>> DrainFd(int fd) {
  std::vector<int> out;
  unsigned char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.insert(out.end(), buf, buf + n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return sys::Fail("read", "self-pipe " + sys::FdName(fd));
    return out;
  }
}

// Polls `fd` for input until `deadline`; EINTR is retried against the deadline. False on timeout.
sys::Result<bool> PollIn(int fd, sys::Deadline deadline, std::string_view what) {
  for (;;) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n > 0) return true;
    if (n == 0) {
      if (deadline.expired()) return false;
      continue;
    }
    if (errno != EINTR) return sys::Fail("poll", what);
    if (deadline.expired()) return false;
  }
}

std::string SignalName(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", signo);
}

// What ScopedAlarm prints, prepared before the alarm so the handler only calls write().
char g_alarm_message[256];
size_t g_alarm_message_len = 0;

void AlarmHandler(int) {
  [[maybe_unused]] ssize_t n = ::write(2, g_alarm_message, g_alarm_message_len);
  // abort() is async-signal-safe; it names the process as crashed with a core-worthy signal.
  std::abort();
}

}  // namespace

ScopedSignalMask::ScopedSignalMask(std::initializer_list<int> signals) {
  sigset_t set = SetOf(signals);
  pthread_sigmask(SIG_BLOCK, &set, &old_);
}
ScopedSignalMask::~ScopedSignalMask() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

sys::Result<ScopedHandler> ScopedHandler::Install(int signo, void (*handler)(int),
                                                  Restart restart) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigfillset(&sa.sa_mask);  // handlers never nest, so they need no reentrancy
  sa.sa_flags = restart == Restart::kYes ? SA_RESTART : 0;
  struct sigaction old {};
  auto r = sys::Call("sigaction", SignalName(signo), [&] { return ::sigaction(signo, &sa, &old); });
  if (!r) return std::unexpected(r.error());
  return ScopedHandler(signo, old);
}

sys::Result<ScopedHandler> ScopedHandler::Noop(int signo, Restart restart) {
  return Install(signo, NoopHandlerFn, restart);
}

ScopedHandler::ScopedHandler(ScopedHandler&& o) noexcept
    : signo_(std::exchange(o.signo_, 0)), old_(o.old_) {}

ScopedHandler::~ScopedHandler() {
  if (signo_ != 0) ::sigaction(signo_, &old_, nullptr);
}

sys::Result<SelfPipe> SelfPipe::Create(std::initializer_list<int> signals, Restart restart) {
  SelfPipe sp;
  auto p = sys::MakePipe(O_NONBLOCK);
  if (!p) return std::unexpected(p.error());
  sp.pipe_ = std::move(*p);
  int expected = -1;
  if (!g_self_pipe_fd.compare_exchange_strong(expected, sp.pipe_.write.get())) {
    return sys::Fail("SelfPipe::Create", "self-pipe", EBUSY, "another SelfPipe is installed");
  }
  for (int s : signals) {
    auto h = ScopedHandler::Install(s, SelfPipeHandler, restart);
    if (!h) {
      g_self_pipe_fd.store(-1);
      return std::unexpected(h.error());
    }
    sp.handlers_.push_back(std::move(*h));
  }
  return sp;
}

SelfPipe::SelfPipe(SelfPipe&& o) noexcept
    : pipe_(std::move(o.pipe_)), handlers_(std::move(o.handlers_)) {}

SelfPipe::~SelfPipe() {
  if (!pipe_.write.valid()) return;
  handlers_.clear();  // restore the old actions before the pipe goes
  g_self_pipe_fd.store(-1);
}

sys::Result<std::vector<int>> SelfPipe::Drain() { return DrainFd(fd()); }

sys::Result<std::vector<int>> SelfPipe::Wait(sys::Deadline deadline) {
  auto ready = PollIn(fd(), deadline, "self-pipe");
  if (!ready) return std::unexpected(ready.error());
  if (!*ready) return std::vector<int>{};
  return Drain();
}

sys::Result<SignalFd> SignalFd::Create(std::initializer_list<int> signals) {
  SignalFd s;
  s.set_ = SetOf(signals);
  sigset_t old;
  if (int e = pthread_sigmask(SIG_BLOCK, &s.set_, &old); e != 0) {
    return sys::Fail("pthread_sigmask", "signalfd set", e);
  }
  s.old_mask_ = old;
  auto fd = sys::Call("signalfd", "signal set",
                      [&] { return ::signalfd(-1, &s.set_, SFD_CLOEXEC | SFD_NONBLOCK); });
  if (!fd) return std::unexpected(fd.error());
  s.fd_.reset(*fd);
  return s;
}

SignalFd::~SignalFd() {
  if (fd_.valid() && old_mask_) pthread_sigmask(SIG_SETMASK, &*old_mask_, nullptr);
}

sys::Result<std::vector<signalfd_siginfo>> SignalFd::Wait(sys::Deadline deadline) {
  auto ready = PollIn(fd(), deadline, "signalfd");
  if (!ready) return std::unexpected(ready.error());
  std::vector<signalfd_siginfo> out;
  if (!*ready) return out;
  signalfd_siginfo buf[16];
  auto n = sys::Retry("read", "signalfd", [&] { return ::read(fd(), buf, sizeof buf); });
  if (!n) {
    if (n.error().err == EAGAIN) return out;
    return std::unexpected(n.error());
  }
  out.assign(buf, buf + *n / sizeof(signalfd_siginfo));
  return out;
}

sys::Status SendToThread(pthread_t thread, int signo) {
  return sys::CheckCode("pthread_kill", SignalName(signo), ::pthread_kill(thread, signo));
}

sys::Status Queue(pid_t pid, int signo, int value) {
  sigval v{};
  v.sival_int = value;
  auto r = sys::Call("sigqueue", fmt::format("pid {}", pid), [&] { return ::sigqueue(pid, signo, v); });
  if (!r) return std::unexpected(r.error());
  return {};
}

std::string ExitStatus::Describe() const {
  if (exited) return fmt::format("exit {}", code);
  return fmt::format("killed by {}", SignalName(signal));
}

namespace {
ExitStatus FromWaitStatus(int st) {
  ExitStatus s;
  if (WIFEXITED(st)) {
    s.exited = true;
    s.code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    s.signal = WTERMSIG(st);
  }
  return s;
}

sys::Fd OpenPidFd(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  return sys::Fd(fd >= 0 ? static_cast<int>(fd) : -1);
}
}  // namespace

sys::Result<Child> Child::Fork(std::function<int()> body) {
  auto pid = sys::Call("fork", "child", [] { return ::fork(); });
  if (!pid) return std::unexpected(pid.error());
  if (*pid == 0) {
    int code = body();
    ::_exit(code);
  }
  return Child(*pid, OpenPidFd(*pid));
}

sys::Result<Child> Child::Spawn(const std::vector<std::string>& argv) {
  if (argv.empty()) return sys::Fail("Child::Spawn", "argv", EINVAL, "empty argv");
  auto report = sys::MakePipe();
  if (!report) return std::unexpected(report.error());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto pid = sys::Call("fork", argv[0], [] { return ::fork(); });
  if (!pid) return std::unexpected(pid.error());
  if (*pid == 0) {
    ::execvp(args[0], args.data());
    int e = errno;
    [[maybe_unused]] ssize_t n = ::write(report->write.get(), &e, sizeof e);
    ::_exit(127);
  }
  report->write.reset();
  Child c(*pid, OpenPidFd(*pid));
  int e = 0;
  auto n = sys::Retry("read", "exec report pipe", [&] { return ::read(report->read.get(), &e, sizeof e); });
  if (n && *n == sizeof e) {
    (void)c.Wait();
    return sys::Fail("execvp", argv[0], e);
  }
  return c;
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), pidfd_(std::move(o.pidfd_)), status_(o.status_) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    Destroy();
    pid_ = std::exchange(o.pid_, -1);
    pidfd_ = std::move(o.pidfd_);
    status_ = o.status_;
  }
  return *this;
}

Child::~Child() { Destroy(); }

void Child::Destroy() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    (void)Wait();
  }
  pid_ = -1;
}

sys::Result<ExitStatus> Child::Wait(sys::Deadline deadline) {
  if (status_) return *status_;
  if (pid_ <= 0) return sys::Fail("waitpid", "child", ECHILD, "no child");
  std::string what = fmt::format("pid {}", pid_);
  for (;;) {
    int st = 0;
    auto r = sys::Retry("waitpid", what, [&] { return ::waitpid(pid_, &st, WNOHANG); });
    if (!r) return std::unexpected(r.error());
    if (*r == pid_) {
      status_ = FromWaitStatus(st);
      return *status_;
    }
    if (deadline.expired()) return sys::Fail("waitpid", what, ETIMEDOUT);
    if (pidfd_.valid()) {
      auto ready = PollIn(pidfd_.get(), deadline, what);
      if (!ready) return std::unexpected(ready.error());
    } else {
      // No pidfd (old kernel): sleep in short steps.
      ::usleep(1000);
    }
  }
}

sys::Status Child::Kill(int signo) {
  if (!running()) return sys::Fail("kill", "child", ESRCH, "child already reaped");
  auto r = sys::Call("kill", fmt::format("pid {}", pid_), [&] { return ::kill(pid_, signo); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Result<std::vector<ChildReaper::Reaped>> ChildReaper::Reap() {
  std::vector<Reaped> out;
  for (size_t i = 0; i < watched_.size();) {
    int st = 0;
    pid_t pid = watched_[i];
    auto r = sys::Retry("waitpid", fmt::format("pid {}", pid),
                        [&] { return ::waitpid(pid, &st, WNOHANG); });
    if (!r) return std::unexpected(r.error());
    if (*r == pid) {
      out.push_back({pid, FromWaitStatus(st)});
      watched_[i] = watched_.back();
      watched_.pop_back();
    } else {
      ++i;
    }
  }
  return out;
}

ScopedAlarm::ScopedAlarm(std::chrono::seconds timeout, std::string_view what) {
  auto m = fmt::format("watchdog: {} did not finish within {} s (pid {})\n", what, timeout.count(),
                       ::getpid());
  g_alarm_message_len = std::min(m.size(), sizeof g_alarm_message);
  std::memcpy(g_alarm_message, m.data(), g_alarm_message_len);
  struct sigaction sa {};
  sa.sa_handler = AlarmHandler;
  sigfillset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, &old_);
  ::alarm(static_cast<unsigned>(timeout.count()));
}

ScopedAlarm::~ScopedAlarm() {
  ::alarm(0);
  ::sigaction(SIGALRM, &old_, nullptr);
}

SignalStorm::SignalStorm(std::function<bool()> send, uint64_t count) {
  thread_ = std::thread([this, send = std::move(send), count] {
    while (!stop_.load(std::memory_order_relaxed) &&
           sent_.load(std::memory_order_relaxed) < count) {
      if (!send()) break;  // the target is gone
      sent_.fetch_add(1, std::memory_order_relaxed);
    }
  });
}

SignalStorm SignalStorm::AtProcess(pid_t pid, int signo, uint64_t count) {
  return SignalStorm([pid, signo] { return ::kill(pid, signo) == 0; }, count);
}

SignalStorm SignalStorm::AtThread(pthread_t thread, int signo, uint64_t count) {
  return SignalStorm([thread, signo] { return ::pthread_kill(thread, signo) == 0; }, count);
}

uint64_t SignalStorm::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return sent();
}

uint64_t SignalStorm::Join() {
  if (thread_.joinable()) thread_.join();
  return sent();
}

}  // namespace ipc::signal
