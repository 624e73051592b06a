#include "fuzz/extra_counters.h"

namespace ipclab::fuzz {

#if defined(IPCLAB_FUZZ) && IPCLAB_FUZZ
namespace {
// 16 Ki counters: a few thousand distinct interleaving features per program at most, so few
// collisions, and a small cost for libFuzzer's per-input scan.
__attribute__((used, retain, section("__libfuzzer_extra_counters"))) std::uint8_t g_counters[1 << 14];
}  // namespace

std::span<std::uint8_t> ExtraCounters() { return g_counters; }
#else
std::span<std::uint8_t> ExtraCounters() { return {}; }
#endif

}  // namespace ipclab::fuzz
