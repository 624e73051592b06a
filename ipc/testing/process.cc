#include "ipc/testing/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace ipc::testing {
namespace {

// The diagnosis, kept in static storage so the signal handler only reads it.
char g_what[256];
char g_note[256];
unsigned g_limit_s = 0;
// Children to kill when the watchdog fires; a fixed array, since the handler cannot allocate.
constexpr int kMaxChildren = 256;
std::atomic<pid_t> g_children[kMaxChildren];

void Track(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}
void Untrack(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t want = pid;
    if (slot.compare_exchange_strong(want, 0)) return;
  }
}

void WriteAll(const char* s) { (void)!::write(2, s, std::strlen(s)); }

void OnAlarm(int) {
  WriteAll("\nhang: ");
  WriteAll(g_what);
  char secs[32];
  int n = 0;
  unsigned v = g_limit_s;
  char rev[16];
  do {
    rev[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && n < 15);
  for (int i = 0; i < n; ++i) secs[i] = rev[n - 1 - i];
  secs[n] = '\0';
  WriteAll(" did not finish within ");
  WriteAll(secs);
  WriteAll(" s (watchdog)");
  if (g_note[0]) {
    WriteAll("; last note: ");
    WriteAll(g_note);
  }
  WriteAll("\n");
  for (auto& slot : g_children) {
    pid_t pid = slot.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  ::_exit(1);
}

void CopyTo(char (&dst)[256], std::string_view s) {
  size_t n = std::min(s.size(), sizeof dst - 1);
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

}  // namespace

Watchdog::Watchdog(std::chrono::seconds limit, std::string_view what) {
  CopyTo(g_what, what);
  g_note[0] = '\0';
  g_limit_s = static_cast<unsigned>(std::max<long long>(1, limit.count()));
  struct sigaction sa{};
  sa.sa_handler = OnAlarm;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, nullptr);
  ::alarm(g_limit_s);
}

Watchdog::~Watchdog() { ::alarm(0); }

void Watchdog::Note(std::string_view note) { CopyTo(g_note, note); }

Child::~Child() {
  if (pid_ > 0) (void)Kill();
}

sys::Result<int> Child::Wait(std::chrono::milliseconds timeout) {
  auto deadline = sys::Deadline::After(timeout);
  std::string object = fmt::format("pid {}", pid_);
  for (auto pause = std::chrono::microseconds(50);; pause = std::min(pause * 2, decltype(pause)(5000))) {
    int status = 0;
    auto r = sys::Retry("waitpid", object, [&] { return ::waitpid(pid_, &status, WNOHANG); });
    if (!r) return std::unexpected(r.error());
    if (*r == pid_) {
      Untrack(pid_);
      pid_ = -1;
      return status;
    }
    if (deadline.expired()) return sys::Fail("waitpid", object, ETIMEDOUT, "child still running");
    std::this_thread::sleep_for(pause);
  }
}

sys::Result<int> Child::Kill(int sig) {
  if (pid_ <= 0) return sys::Fail("kill", "child", ESRCH);
  ::kill(pid_, sig);
  int status = 0;
  std::string object = fmt::format("pid {}", pid_);
  auto r = sys::Retry("waitpid", object, [&] { return ::waitpid(pid_, &status, 0); });
  Untrack(pid_);
  pid_ = -1;
  if (!r) return std::unexpected(r.error());
  return status;
}

sys::Result<Child> ForkChild(std::function<int()> body) {
  auto pid = sys::Call("fork", "test child", [] { return ::fork(); });
  if (!pid) return std::unexpected(pid.error());
  if (*pid == 0) {
    ::alarm(0);  // (not inherited anyway) the child is bounded by the parent's watchdog
    int rc = body();
    ::_exit(rc & 0xff);
  }
  Track(*pid);
  return Child(*pid);
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return -WTERMSIG(wait_status);
  return -1000;
}

}  // namespace ipc::testing
