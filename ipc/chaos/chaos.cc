#include "ipc/chaos/chaos.h"

namespace ipc::chaos {

namespace internal {
std::atomic<Hook> g_hook{nullptr};
}  // namespace internal

void SetHook(Hook hook) { internal::g_hook.store(hook, std::memory_order_relaxed); }

}  // namespace ipc::chaos
