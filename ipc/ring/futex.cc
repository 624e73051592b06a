#include "ipc/ring/futex.h"

#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ipc::ring {

sys::Status FutexWait(const void* word, std::uint32_t expected, sys::Deadline deadline) {
  if (deadline.expired()) return sys::Fail("futex(FUTEX_WAIT_BITSET)", "ring index", ETIMEDOUT);
  timespec at = deadline.monotonic_timespec();
  auto r = sys::Call("futex(FUTEX_WAIT_BITSET)", "ring index", [&] {
    return ::syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected,
                     deadline.is_never() ? nullptr : &at, nullptr, FUTEX_BITSET_MATCH_ANY);
  });
  if (r || r.error().err == EAGAIN || r.error().err == EINTR) return {};
  return std::unexpected(r.error());
}

void FutexWake(const void* word, int count) {
  ::syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

bool ProcessAlive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace ipc::ring
