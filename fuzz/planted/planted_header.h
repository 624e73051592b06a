// fuzz/planted: a COPY of ipc::shm::ValidateHeader with a planted out-of-bounds read, compiled
// only into the planted_header_fuzzer demo (tagged manual). It exists to prove that the fuzzing
// setup finds the kind of bug a header validator can have: see find_planted.sh.
//
// The planted bug: the copy "probes that the segment is mapped to its end" by reading the last
// byte the header claims, bytes[h.size - 1], before comparing h.size with the bytes it was given,
// and it bounds the probe by the payload size instead of the segment size (h.size <= bytes.size()
// + kHeaderSize). A header claiming up to 64 bytes more than the segment holds reads past it.
#pragma once

#include <span>

#include "ipc/shm/header.h"

namespace ipc::shm::planted {

sys::Result<SegmentHeader> ValidateHeaderPlanted(std::span<const std::byte> bytes);

}  // namespace ipc::shm::planted
