// ipc/chaos: injection points inside ipc/ code, compiled in only for stress builds.
//
//   IPCLAB_CHAOS_POINT("ring.spsc.after_write");   // may yield, nap a few µs, or spin
//   IPCLAB_CRASH_POINT("ring.spsc.before_commit"); // may also SIGKILL the calling process
//
// Both expand to nothing unless IPCLAB_CHAOS is defined, so production code pays nothing. The
// `*_chaos` variants of the ipc libraries (e.g. //ipc/ring:mpmc_buffer_chaos) compile the same
// sources with IPCLAB_CHAOS; the stress targets (//stress:targets) use them. When compiled in, a
// point calls the hook installed with SetHook (stress/chaos_point.cc installs one in every chaos
// participant); without a hook it is one relaxed atomic load.
//
// One binary may link both variants of a library (`ipclab` links the stress targets and the
// problems): IPCLAB_CHAOS_NAMESPACE_BEGIN/END wrap the API of a library that has points in an
// inline namespace `chaos` when IPCLAB_CHAOS is defined, so the two variants are distinct types
// and symbols (no ODR clash) while callers still spell them ipc::ring::MpmcBuffer. A translation
// unit compiled with IPCLAB_CHAOS must therefore link the `_chaos` variants of the ipc libraries
// whose headers it includes (a mismatch is a link error, never a silent mix).
#pragma once

#include <atomic>

namespace ipc::chaos {

enum class PointKind {
  kNoise,  // scheduling noise only
  kCrash,  // noise, and the process may be killed here (a named crash point)
};

// Called at every point reached while a hook is installed. Must be async-signal-safe and thread
// safe: points sit inside code that signal handlers interrupt and that several threads run.
using Hook = void (*)(const char* name, PointKind kind);

// Installs (or, with nullptr, removes) the process's hook.
void SetHook(Hook hook);

namespace internal {
extern std::atomic<Hook> g_hook;
inline void Hit(const char* name, PointKind kind) {
  if (Hook h = g_hook.load(std::memory_order_relaxed)) h(name, kind);
}
}  // namespace internal

}  // namespace ipc::chaos

#ifdef IPCLAB_CHAOS
#define IPCLAB_CHAOS_POINT(name) ::ipc::chaos::internal::Hit(name, ::ipc::chaos::PointKind::kNoise)
#define IPCLAB_CRASH_POINT(name) ::ipc::chaos::internal::Hit(name, ::ipc::chaos::PointKind::kCrash)
#define IPCLAB_CHAOS_NAMESPACE_BEGIN inline namespace with_chaos_points {
#define IPCLAB_CHAOS_NAMESPACE_END }
#else
#define IPCLAB_CHAOS_POINT(name) ((void)0)
#define IPCLAB_CRASH_POINT(name) ((void)0)
#define IPCLAB_CHAOS_NAMESPACE_BEGIN
#define IPCLAB_CHAOS_NAMESPACE_END
#endif
