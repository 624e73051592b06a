// ipc/shm/header.h: the 64-byte header at the start of every segment ipclab creates.
//
// A segment outlives processes, so whoever attaches may find one written by a crashed, older or
// hostile peer. The header lets an attacher check, before it trusts a single byte of the layout,
// that the segment is an ipclab segment of the layout it expects, complete, and the size it says:
//
//   offset size field
//        0    4 magic          0x4C435049 ("IPCL" in memory), written last with release order,
//                              so an attacher never sees a complete-looking half-written header
//        4    4 version        header format version (kHeaderVersion)
//        8    8 size           total bytes of the segment, header included
//       16    4 creator_pid    pid of the process that created it
//       20    4 layout         what lies after the header: a tag its user chose ('SPSC', ...)
//       24    4 layout_version the version of that layout
//       28    4 reserved       zero
//       32    8 created_ns     CLOCK_REALTIME nanoseconds at creation
//       40   16 reserved       zero
//       56    8 checksum       FNV-1a 64 of bytes 0..55
//
// The payload (bytes 64..size) is the layout's business; the header is written once and then
// read-only, which is why a checksum over it is meaningful.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ipc/sys/sys.h"

namespace ipc::shm {

inline constexpr std::uint32_t kHeaderMagic = 0x4C435049;  // "IPCL" little-endian
inline constexpr std::uint32_t kHeaderVersion = 1;
inline constexpr std::size_t kHeaderSize = 64;

// Makes a layout tag from four characters: LayoutTag("SPSC").
constexpr std::uint32_t LayoutTag(const char (&s)[5]) {
  return std::uint32_t(std::uint8_t(s[0])) | std::uint32_t(std::uint8_t(s[1])) << 8 |
         std::uint32_t(std::uint8_t(s[2])) << 16 | std::uint32_t(std::uint8_t(s[3])) << 24;
}
// Layout tag of a segment whose payload is raw bytes.
inline constexpr std::uint32_t kRawLayout = LayoutTag("RAW_");

struct SegmentHeader {
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  std::uint64_t size = 0;
  std::int32_t creator_pid = 0;
  std::uint32_t layout = 0;
  std::uint32_t layout_version = 0;
  std::uint32_t reserved0 = 0;
  std::int64_t created_ns = 0;
  std::uint8_t reserved1[16] = {};
  std::uint64_t checksum = 0;
};
static_assert(sizeof(SegmentHeader) == kHeaderSize);
static_assert(offsetof(SegmentHeader, checksum) == 56);

// What an attacher expects; zero fields are not checked.
struct HeaderExpectation {
  std::uint32_t layout = 0;
  std::uint32_t layout_version = 0;
};

// FNV-1a 64 of the first 56 bytes of `h`.
std::uint64_t HeaderChecksum(const SegmentHeader& h);

// Writes a complete header for a segment of `segment.size()` bytes at the start of `segment`
// (which must be at least kHeaderSize bytes and 8-byte aligned). The magic goes last, with a
// release store, so an attacher that sees it sees the rest.
sys::Status WriteHeader(std::span<std::byte> segment, std::uint32_t layout,
                        std::uint32_t layout_version);

// Checks the bytes of a whole mapped segment: long enough for a header, magic, version, checksum,
// the recorded size equal to the bytes given, creator pid positive, reserved fields zero, and the
// expectation. Any defect is a SysError(call "shm.header", object `object`, EBADMSG, or EPROTO
// for a version or layout mismatch) whose detail says what was wrong. Never reads outside `bytes`;
// `bytes` may be unaligned. Returns a copy of the header.
sys::Result<SegmentHeader> ValidateHeader(std::span<const std::byte> bytes,
                                          HeaderExpectation expect = {},
                                          std::string_view object = "segment");

}  // namespace ipc::shm
