// stress/chaos_point.h: what the injection points do in a chaos participant.
//
//   IPCLAB_CHAOS_POINT("ring.after_write");   // may yield, sleep a few µs, or spin
//   IPCLAB_CRASH_POINT("ring.before_commit"); // may also SIGKILL the calling process
//
// The macros are ipc/chaos/chaos.h's: the same points sit in the stress targets' own code and
// inside ipc/ (ring commit, mailbox send/receive, robust mutex acquire, pipe framing). Both
// compile to nothing unless IPCLAB_CHAOS is defined: the stress targets set it for their own code
// (`local_defines` in stress/BUILD) and link the ipc libraries' `_chaos` variants; production
// builds never do. When compiled in, a point does nothing in a process that is not a chaos
// participant (the driver, a plain test): no hook is installed there, so code with points can run
// anywhere. The driver installs the hook in every participant right after fork (SetPointContext). Inside a participant the decision comes from the participant's
// seeded generator (one seed, printed by the driver, drives every participant) and the plan the
// driver published in shared memory: how often to yield, sleep (up to max_sleep_us) or spin, and
// with what probability (per mille) an armed crash point kills its process. A crash point counts
// its kill in shared memory before it raises SIGKILL, so the driver can tell a planned death from
// a real crash.
#pragma once

#include <cstdint>

#include "ipc/chaos/chaos.h"

namespace stress {

// The plan every participant reads (lives in the chaos segment; see chaos.h).
struct ChaosPlan {
  std::uint32_t yield_permille = 0;
  std::uint32_t sleep_permille = 0;
  std::uint32_t spin_permille = 0;
  std::uint32_t max_sleep_us = 0;
  std::uint32_t crash_ppm = 0;  // chance (per million) that one crash point hit kills the process
};

namespace internal {
// Called by the macros. Cheap when the process is not a participant.
void ChaosPointHit(const char* name);
void CrashPointHit(const char* name);
}  // namespace internal

}  // namespace stress


namespace stress::internal {
// Set by the driver in a participant right after fork (before it starts threads); installs the
// ipc/chaos hook. Each thread draws from its own generator, seeded from `rng` and its thread id.
struct PointContext {
  const ChaosPlan* plan = nullptr;
  std::uint64_t* crash_point_kills = nullptr;  // shared counter (atomic_ref'd)
  std::uint64_t rng = 0;                       // splitmix64 seed
};
void SetPointContext(const PointContext& context);
std::uint64_t NextRandom(std::uint64_t& state);  // splitmix64
}  // namespace stress::internal
