#include "ipc/shm/header.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace ipc::shm {
namespace {

constexpr std::string_view kCall = "shm.header";

std::string Tag(std::uint32_t t) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((t >> (8 * i)) & 0xff);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return fmt::format("'{}' ({:#010x})", s, t);
}

}  // namespace

std::uint64_t HeaderChecksum(const SegmentHeader& h) {
  const auto* p = reinterpret_cast<const unsigned char*>(&h);
  std::uint64_t x = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < offsetof(SegmentHeader, checksum); ++i) {
    x ^= p[i];
    x *= 0x100000001b3ull;
  }
  return x;
}

sys::Status WriteHeader(std::span<std::byte> segment, std::uint32_t layout,
                        std::uint32_t layout_version) {
  if (segment.size() < kHeaderSize || reinterpret_cast<std::uintptr_t>(segment.data()) % 8 != 0) {
    return sys::Fail(kCall, "segment", EINVAL,
                     fmt::format("{} bytes at {}: need >= {} bytes, 8-byte aligned", segment.size(),
                                 static_cast<void*>(segment.data()), kHeaderSize));
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  SegmentHeader h;
  h.magic = kHeaderMagic;
  h.version = kHeaderVersion;
  h.size = segment.size();
  h.creator_pid = ::getpid();
  h.layout = layout;
  h.layout_version = layout_version;
  h.created_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  h.checksum = HeaderChecksum(h);
  // Everything but the magic, then the magic with release order.
  auto* dst = reinterpret_cast<SegmentHeader*>(segment.data());
  std::memcpy(reinterpret_cast<std::byte*>(dst) + 4, reinterpret_cast<const std::byte*>(&h) + 4,
              kHeaderSize - 4);
  std::atomic_ref<std::uint32_t>(dst->magic).store(h.magic, std::memory_order_release);
  return {};
}

sys::Result<SegmentHeader> ValidateHeader(std::span<const std::byte> bytes,
                                          HeaderExpectation expect, std::string_view object) {
  if (bytes.size() < kHeaderSize) {
    return sys::Fail(kCall, object, EBADMSG,
                     fmt::format("segment is {} bytes, smaller than the {}-byte header (truncated?)",
                                 bytes.size(), kHeaderSize));
  }
  SegmentHeader h;
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::uint32_t) == 0) {
    // Acquire the magic first: it is written last, so a complete header is visible after it.
    std::uint32_t magic = std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(
                              reinterpret_cast<const std::uint32_t*>(bytes.data())))
                              .load(std::memory_order_acquire);
    std::memcpy(&h, bytes.data(), kHeaderSize);
    h.magic = magic;
  } else {
    std::memcpy(&h, bytes.data(), kHeaderSize);
  }
  if (h.magic != kHeaderMagic) {
    return sys::Fail(kCall, object, EBADMSG,
                     h.magic == 0 ? std::string("no header (magic 0): not initialised yet, or not an "
                                                "ipclab segment")
                                  : fmt::format("magic {:#010x} != {:#010x}: not an ipclab segment",
                                                h.magic, kHeaderMagic));
  }
  if (h.version != kHeaderVersion) {
    return sys::Fail(kCall, object, EPROTO,
                     fmt::format("header version {} != {} (made by another ipclab version)",
                                 h.version, kHeaderVersion));
  }
  if (std::uint64_t sum = HeaderChecksum(h); sum != h.checksum) {
    return sys::Fail(kCall, object, EBADMSG,
                     fmt::format("header checksum {:#018x} != computed {:#018x}: corrupt header",
                                 h.checksum, sum));
  }
  if (h.size != bytes.size()) {
    return sys::Fail(kCall, object, EBADMSG,
                     fmt::format("header says {} bytes but the segment is {} bytes{}", h.size,
                                 bytes.size(), h.size > bytes.size() ? " (truncated)" : ""));
  }
  if (h.creator_pid <= 0 || h.reserved0 != 0 ||
      std::any_of(std::begin(h.reserved1), std::end(h.reserved1), [](auto b) { return b != 0; })) {
    return sys::Fail(kCall, object, EBADMSG,
                     fmt::format("creator pid {} or reserved fields invalid", h.creator_pid));
  }
  if (expect.layout != 0 && h.layout != expect.layout) {
    return sys::Fail(kCall, object, EPROTO,
                     fmt::format("layout {} != expected {}", Tag(h.layout), Tag(expect.layout)));
  }
  if (expect.layout_version != 0 && h.layout_version != expect.layout_version) {
    return sys::Fail(kCall, object, EPROTO,
                     fmt::format("layout {} version {} != expected {}", Tag(h.layout),
                                 h.layout_version, expect.layout_version));
  }
  return h;
}

}  // namespace ipc::shm
