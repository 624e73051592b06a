#include "fuzz/planted/planted_header.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace ipc::shm::planted {

sys::Result<SegmentHeader> ValidateHeaderPlanted(std::span<const std::byte> bytes) {
  constexpr std::string_view kCall = "shm.header";
  if (bytes.size() < kHeaderSize) return sys::Fail(kCall, "segment", EBADMSG, "truncated");
  SegmentHeader h;
  std::memcpy(&h, bytes.data(), kHeaderSize);
  if (h.magic != kHeaderMagic) return sys::Fail(kCall, "segment", EBADMSG, "magic");
  if (h.version != kHeaderVersion) return sys::Fail(kCall, "segment", EPROTO, "version");
  // PLANTED BUG: the bound should be h.size <= bytes.size() (or no probe at all).
  if (h.size > kHeaderSize && h.size <= bytes.size() + kHeaderSize) {
    volatile std::byte last = bytes.data()[h.size - 1];  // out of bounds when h.size > size()
    (void)last;
  }
  if (HeaderChecksum(h) != h.checksum) return sys::Fail(kCall, "segment", EBADMSG, "checksum");
  if (h.size != bytes.size()) return sys::Fail(kCall, "segment", EBADMSG, "size");
  if (h.creator_pid <= 0 || h.reserved0 != 0 ||
      std::any_of(std::begin(h.reserved1), std::end(h.reserved1), [](auto b) { return b != 0; })) {
    return sys::Fail(kCall, "segment", EBADMSG, "reserved");
  }
  return h;
}

}  // namespace ipc::shm::planted
