// Fuzzes ipc::shm::ValidateHeader, the check an attacher runs on a segment a crashed, older or
// hostile process wrote. The bytes are copied into a heap block of exactly their size (so ASan
// sees any read past the end), at an odd offset too (the header may be unaligned). Properties:
// - no input crashes or reads outside the bytes given;
// - an accepted header is self-consistent: magic, version, size == bytes given, checksum over its
//   first 56 bytes, positive creator pid, zero reserved fields;
// - a header WriteHeader produced is accepted, and flipping any one byte of it is refused.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "ipc/shm/header.h"

namespace {

using ipc::shm::SegmentHeader;

void CheckAccepted(const SegmentHeader& h, size_t size) {
  if (h.magic != ipc::shm::kHeaderMagic || h.version != ipc::shm::kHeaderVersion) std::abort();
  if (h.size != size || h.creator_pid <= 0 || h.reserved0 != 0) std::abort();
  for (auto b : h.reserved1) {
    if (b != 0) std::abort();
  }
  if (h.checksum != ipc::shm::HeaderChecksum(h)) std::abort();
}

void ValidateAt(const uint8_t* data, size_t size, size_t misalign) {
  std::unique_ptr<std::byte[]> block(new std::byte[size + misalign]);
  if (size > 0) std::memcpy(block.get() + misalign, data, size);
  std::span<const std::byte> bytes(block.get() + misalign, size);
  if (auto h = ipc::shm::ValidateHeader(bytes)) {
    CheckAccepted(*h, size);
    // The expectation only narrows: a matching one still accepts, a different layout refuses.
    if (!ipc::shm::ValidateHeader(bytes, {.layout = h->layout, .layout_version = h->layout_version})) {
      std::abort();
    }
    auto other = ipc::shm::ValidateHeader(bytes, {.layout = h->layout ^ 1u});
    if (other || other.error().err != EPROTO) std::abort();
  } else if (h.error().call.empty()) {
    std::abort();  // an error must name what failed
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ValidateAt(data, size, 0);
  ValidateAt(data, size, 1);

  // Round trip: a fresh header over a segment sized from the input is accepted; every single-byte
  // corruption chosen by the input is refused.
  if (size >= 3) {
    size_t seg_size = ipc::shm::kHeaderSize + (data[0] | (data[1] << 8)) % 4096;
    std::vector<uint64_t> storage((seg_size + 7) / 8);
    std::span<std::byte> seg(reinterpret_cast<std::byte*>(storage.data()), seg_size);
    uint32_t layout = size >= 7 ? (uint32_t(data[3]) | uint32_t(data[4]) << 8 |
                                   uint32_t(data[5]) << 16 | uint32_t(data[6]) << 24)
                                : ipc::shm::kRawLayout;
    if (!ipc::shm::WriteHeader(seg, layout, data[2])) std::abort();
    auto ok = ipc::shm::ValidateHeader(seg, {.layout = layout, .layout_version = data[2]});
    if (!ok) std::abort();
    CheckAccepted(*ok, seg_size);
    size_t at = data[2] % ipc::shm::kHeaderSize;
    uint8_t flip = size >= 8 && data[7] != 0 ? data[7] : 0x01;
    seg[at] ^= std::byte{flip};
    if (ipc::shm::ValidateHeader(seg)) std::abort();
  }
  return 0;
}
