// ipc/ring/futex.h: the two futex operations the rings block with.
//
// Shared futexes (no FUTEX_PRIVATE_FLAG): the word may live in memory several processes map, and
// the kernel keys the wait queue on the physical page. Waits take an absolute CLOCK_MONOTONIC
// deadline (FUTEX_WAIT_BITSET).
#pragma once

#include <climits>
#include <cstdint>

#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::ring {

// Sleeps while the 32-bit word at `word` equals `expected`, until woken or `deadline`. Returns
// success when woken, when the word differed already (EAGAIN) or on EINTR — the caller re-checks
// its condition in every case — and ETIMEDOUT once the deadline has passed.
sys::Status FutexWait(const void* word, std::uint32_t expected, sys::Deadline deadline);
// Wakes up to `count` waiters on `word`.
void FutexWake(const void* word, int count = INT_MAX);

// Is the process alive? (For waits that give up when their peer died.)
bool ProcessAlive(int pid);

}  // namespace ipc::ring
