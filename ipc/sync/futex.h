// ipc/sync/futex.h: the futex operations shared-memory waits block with (ipc/sync's condition
// variable, ipc/ring's rings).
//
// Shared futexes (no FUTEX_PRIVATE_FLAG): the word may live in memory several processes map, and
// the kernel keys the wait queue on the physical page. The kernel keeps no state in the word, so a
// process killed inside either call leaves nothing behind that could block another. Waits take an
// absolute CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET).
#pragma once

#include <climits>
#include <cstdint>
#include <string_view>

#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::sync {

// Sleeps while the 32-bit word at `word` equals `expected`, until woken or `deadline`. Returns
// success when woken, when the word differed already (EAGAIN) or on EINTR (a signal handler
// runs; the caller re-checks its condition in every case, so this is a spurious wakeup, never a
// restart with a stale `expected`), and ETIMEDOUT once the deadline has passed. `object` names
// the word in errors.
sys::Status FutexWait(const void* word, std::uint32_t expected, sys::Deadline deadline,
                      std::string_view object = "futex word");
// Wakes up to `count` waiters on `word`. Cannot fail for a valid mapped word; an error (EFAULT)
// is returned for the caller to report.
sys::Status FutexWake(const void* word, int count = INT_MAX, std::string_view object = "futex word");

// Is the process alive? (For waits that give up when their peer died.)
bool ProcessAlive(int pid);

}  // namespace ipc::sync
