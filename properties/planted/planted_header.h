// properties/planted/planted_header.h: a TEST-ONLY segment header validator with a planted bug:
// when the header claims a size SMALLER than the mapped bytes it validates only that prefix (as
// if trailing bytes were harmless), so a header that lies about its segment's size is accepted.
// Everything else is the real ipc::shm::ValidateHeader. Used by header_model_property_test to
// show the model-based property catches and shrinks it.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "ipc/shm/header.h"

namespace properties::planted {

inline ipc::sys::Result<ipc::shm::SegmentHeader> ValidateHeaderTrustingSize(
    std::span<const std::byte> bytes, ipc::shm::HeaderExpectation expect = {}) {
  if (bytes.size() >= ipc::shm::kHeaderSize) {
    std::uint64_t size = 0;
    std::memcpy(&size, bytes.data() + offsetof(ipc::shm::SegmentHeader, size), sizeof size);
    // PLANTED BUG: the recorded size must equal the mapped size, not merely fit inside it.
    if (size >= ipc::shm::kHeaderSize && size < bytes.size()) bytes = bytes.first(size);
  }
  return ipc::shm::ValidateHeader(bytes, expect);
}

}  // namespace properties::planted
