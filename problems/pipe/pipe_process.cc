#include "problems/pipe/pipe_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "ipc/sys/fd.h"

namespace problems {
namespace {

constexpr int kValues = 3;
constexpr int kExpectedSum = kValues * (kValues + 1) / 2;
constexpr int kWrongSumExit = 3;

// The child: sums ints until read() returns 0. Only async-signal-safe calls after fork().
[[noreturn]] void Child(ipc::sys::PipeEnds& ends, PipeMistake mistake) {
  if (mistake != PipeMistake::kChildKeepsWriteEnd) ends.write.reset();  // close(fd[1])
  int sum = 0;
  int value = 0;
  for (;;) {
    auto n = ipc::sys::Retry("read", "pipe", [&] { return ::read(ends.read.get(), &value, sizeof value); });
    if (!n || *n == 0) break;  // end-of-file (or an error: stop either way)
    if (*n == sizeof value) sum += value;
  }
  _exit(sum == kExpectedSum ? 0 : kWrongSumExit);
}

}  // namespace

ipc::sys::Result<std::string> RunPipeProcesses(PipeMistake mistake,
                                               std::chrono::milliseconds watchdog) {
  auto ends = ipc::sys::MakePipe();
  if (!ends) return std::unexpected(ends.error());
  auto pid = ipc::sys::Call("fork", "pipe child", [] { return ::fork(); });
  if (!pid) return std::unexpected(pid.error());
  if (*pid == 0) Child(*ends, mistake);

  ends->read.reset();  // the parent only writes
  for (int v = 1; v <= kValues; ++v) {
    auto n = ipc::sys::Retry("write", "pipe", [&] { return ::write(ends->write.get(), &v, sizeof v); });
    if (!n) return std::unexpected(n.error());
  }
  if (mistake != PipeMistake::kParentKeepsWriteEnd) ends->write.reset();  // close(fd[1])

  // waitpid() with a watchdog: poll with WNOHANG until the deadline.
  const auto deadline = ipc::sys::Deadline::After(watchdog);
  int status = 0;
  for (;;) {
    auto r = ipc::sys::Retry("waitpid", "pipe child", [&] { return ::waitpid(*pid, &status, WNOHANG); });
    if (!r) return std::unexpected(r.error());
    if (*r == *pid) break;
    if (deadline.expired()) {
      // The child is still blocked in read(): it will never see end-of-file. Kill and reap it.
      (void)ipc::sys::Call("kill", "pipe child", [&] { return ::kill(*pid, SIGKILL); });
      (void)ipc::sys::Retry("waitpid", "pipe child", [&] { return ::waitpid(*pid, &status, 0); });
      return std::string("hang");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::string("clean");
  if (WIFEXITED(status) && WEXITSTATUS(status) == kWrongSumExit) {
    return std::string("assertion-failure");
  }
  return std::string("crash");
}

}  // namespace problems
