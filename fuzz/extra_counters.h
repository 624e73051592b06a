// fuzz/extra_counters.h: libFuzzer's extra coverage counters, for features the compiler's
// instrumentation cannot see (the interleaving coverage of lab/schedfuzz/coverage.h).
//
// Under --config=fuzz (IPCLAB_FUZZ) ExtraCounters() is a uint8_t array placed in the section
// `__libfuzzer_extra_counters`; libFuzzer finds it through the linker's __start_/__stop_ symbols,
// clears it before every input and reads it after, like its own inline 8-bit counters. In every
// other build the array does not exist and ExtraCounters() is empty (AddInterleavingCoverage then
// does nothing), so the regression driver links the same target code.
#pragma once

#include <cstdint>
#include <span>

namespace ipclab::fuzz {

std::span<std::uint8_t> ExtraCounters();

}  // namespace ipclab::fuzz
