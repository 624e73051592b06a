#include "ipc/sync/futex.h"

#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ipc::sync {

sys::Status FutexWait(const void* word, std::uint32_t expected, sys::Deadline deadline,
                      std::string_view object) {
  if (deadline.expired()) return sys::Fail("futex(FUTEX_WAIT_BITSET)", object, ETIMEDOUT);
  timespec at = deadline.monotonic_timespec();
  // Call, not Retry: after EINTR the word may have changed, so the caller must re-check.
  auto r = sys::Call("futex(FUTEX_WAIT_BITSET)", object, [&] {
    return ::syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected,
                     deadline.is_never() ? nullptr : &at, nullptr, FUTEX_BITSET_MATCH_ANY);
  });
  if (r || r.error().err == EAGAIN || r.error().err == EINTR) return {};
  return std::unexpected(r.error());
}

sys::Status FutexWake(const void* word, int count, std::string_view object) {
  // FUTEX_WAKE never sleeps, so it cannot see EINTR.
  auto r = sys::Call("futex(FUTEX_WAKE)", object, [&] {
    return ::syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
  });
  if (!r) return std::unexpected(r.error());
  return {};
}

bool ProcessAlive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace ipc::sync
