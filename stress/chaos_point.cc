#include "stress/chaos_point.h"

#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace stress::internal {
namespace {
PointContext g_context;

// Per thread: participants may run points from several threads at once (the generator is not
// shared state). Seeded lazily from the participant's seed and the thread id, so a run stays a
// function of the one seed for a given interleaving.
thread_local std::uint64_t t_rng = 0;
thread_local bool t_seeded = false;

std::uint64_t& ThreadRng() {
  if (!t_seeded) {
    t_rng = g_context.rng ^ (static_cast<std::uint64_t>(::gettid() == ::getpid() ? 0 : ::gettid()) *
                             0x9e3779b97f4a7c15ull);
    t_seeded = true;
  }
  return t_rng;
}

void Hook(const char* name, ipc::chaos::PointKind kind) {
  if (kind == ipc::chaos::PointKind::kCrash) {
    CrashPointHit(name);
  } else {
    ChaosPointHit(name);
  }
}
}  // namespace

void SetPointContext(const PointContext& context) {
  g_context = context;
  t_seeded = false;
  ipc::chaos::SetHook(context.plan ? &Hook : nullptr);
}

std::uint64_t NextRandom(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void ChaosPointHit(const char*) {
  const ChaosPlan* plan = g_context.plan;
  if (plan == nullptr) return;
  std::uint64_t r = NextRandom(ThreadRng());
  std::uint32_t roll = static_cast<std::uint32_t>(r % 1000);
  if (roll < plan->yield_permille) {
    ::sched_yield();
  } else if (roll < plan->yield_permille + plan->sleep_permille) {
    // A raw nanosleep: an interrupted nap is fine (it is noise), so EINTR is deliberately ignored.
    std::uint64_t us = 1 + (r >> 32) % (plan->max_sleep_us ? plan->max_sleep_us : 1);
    timespec ts{0, static_cast<long>(us * 1000)};
    ::nanosleep(&ts, nullptr);
  } else if (roll < plan->yield_permille + plan->sleep_permille + plan->spin_permille) {
    for (std::uint64_t i = 0, n = (r >> 40) % 20000; i < n; ++i) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
  }
}

void CrashPointHit(const char* name) {
  ChaosPointHit(name);
  const ChaosPlan* plan = g_context.plan;
  if (plan == nullptr || plan->crash_ppm == 0) return;
  if (NextRandom(ThreadRng()) % 1000000 < plan->crash_ppm) {
    std::atomic_ref<std::uint64_t>(*g_context.crash_point_kills).fetch_add(1);
    ::raise(SIGKILL);
  }
}

}  // namespace stress::internal
