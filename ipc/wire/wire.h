// ipc/wire: the versioned wire format of ipclab's typed messages.
//
// Every message that crosses a process boundary through a mailbox, a pipe or a stream socket is
// one frame: a fixed 16-byte header followed by the payload. All fields are little-endian.
//
//   offset  size  field
//   0       4     magic    0x57435049 ("IPCW" read as bytes)
//   4       1     version  kVersion (1); a different version is refused, never guessed at
//   5       1     flags    bits outside kKnownFlags must be zero
//   6       2     type     the message type, chosen by the application (0 is reserved: invalid)
//   8       4     length   payload bytes that follow the header
//   12      4     crc32    CRC-32 (IEEE 802.3, as zlib) of the payload
//
// The other side of a pipe or a socket is another process that may be buggy, dead half-way
// through a write, or hostile. `Decode` and `FrameDecoder` therefore treat their input as
// untrusted: every rejection is a `SysError` naming what was wrong (errno EBADMSG for a truncated
// or corrupt frame, EPROTO for a bad magic or flags, EPROTONOSUPPORT for another version,
// EMSGSIZE for a length over the limit), and no input makes them allocate more than the limit.
//
// Usage:
//   auto frame = ipc::wire::Encode(kPing, payload);            // Result<std::vector<std::byte>>
//   auto view = ipc::wire::Decode(*frame);                     // Result<FrameView>
//   struct Ping { static constexpr uint16_t kWireType = 7; uint64_t seq; };
//   auto bytes = ipc::wire::EncodeTyped(Ping{42});
//   auto ping = ipc::wire::DecodeTyped<Ping>(*bytes);          // type and size checked
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "ipc/sys/sys.h"

namespace ipc::wire {

inline constexpr uint32_t kMagic = 0x57435049;
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 16;
// The largest payload any decoder accepts unless given a smaller limit: a length field is read
// from untrusted bytes, and 1 MiB bounds what one frame can make the reader allocate.
inline constexpr size_t kMaxPayload = size_t{1} << 20;

// Flags. kFlagReply marks an answer to a request (request/reply protocols on one channel);
// kFlagShutdown is the last frame a peer sends before closing (see docs/ipc-messaging.md).
inline constexpr uint8_t kFlagReply = 0x01;
inline constexpr uint8_t kFlagShutdown = 0x02;
inline constexpr uint8_t kKnownFlags = kFlagReply | kFlagShutdown;

struct Header {
  uint32_t magic = kMagic;
  uint8_t version = kVersion;
  uint8_t flags = 0;
  uint16_t type = 0;
  uint32_t length = 0;
  uint32_t crc = 0;
};

// A decoded frame whose payload points into the decoded buffer.
struct FrameView {
  Header header;
  std::span<const std::byte> payload;
};

// A decoded frame that owns its payload (what FrameDecoder yields).
struct Frame {
  Header header;
  std::vector<std::byte> payload;
};

// CRC-32 (reflected polynomial 0xEDB88320, initial and final xor 0xFFFFFFFF), the zlib one.
uint32_t Crc32(std::span<const std::byte> data);

// Header to and from its 16 little-endian bytes. ParseHeader checks magic, version, flags, type
// and `length <= max_payload`, but not the CRC (the payload is not there yet).
void WriteHeader(const Header& h, std::byte out[kHeaderSize]);
sys::Result<Header> ParseHeader(std::span<const std::byte> bytes, size_t max_payload = kMaxPayload);

// One frame. Refuses type 0, unknown flags and payloads over `max_payload` (EMSGSIZE).
sys::Result<std::vector<std::byte>> Encode(uint16_t type, std::span<const std::byte> payload,
                                           uint8_t flags = 0, size_t max_payload = kMaxPayload);
// Appends the frame to `out` (no allocation when `out` has room), for hot paths.
sys::Status EncodeInto(std::vector<std::byte>& out, uint16_t type,
                       std::span<const std::byte> payload, uint8_t flags = 0,
                       size_t max_payload = kMaxPayload);

// Exactly one frame: `bytes` must hold the header and the whole payload and nothing more.
sys::Result<FrameView> Decode(std::span<const std::byte> bytes, size_t max_payload = kMaxPayload);

// Typed messages: a trivially copyable struct with `static constexpr uint16_t kWireType`. The
// payload is the struct's object representation, so both ends must be built from the same
// definition on the same ABI (these are local IPC messages, not a network protocol); the version
// byte changes when this rule does.
template <class T>
concept WireMessage = std::is_trivially_copyable_v<T> && requires {
  { T::kWireType } -> std::convertible_to<uint16_t>;
};

template <WireMessage T>
sys::Result<std::vector<std::byte>> EncodeTyped(const T& msg, uint8_t flags = 0) {
  return Encode(T::kWireType, std::as_bytes(std::span(&msg, 1)), flags);
}

// Checks that the frame carries a T: the right type and exactly sizeof(T) bytes.
sys::Status CheckTyped(const FrameView& f, uint16_t want_type, size_t want_size);

template <WireMessage T>
sys::Result<T> DecodeTyped(std::span<const std::byte> bytes) {
  // The type is checked first so a message of another type is named as such, not as "too long".
  auto h = ParseHeader(bytes);
  if (!h) return std::unexpected(h.error());
  if (h->type != T::kWireType) {
    return std::unexpected(
        CheckTyped(FrameView{*h, {}}, T::kWireType, sizeof(T)).error());
  }
  auto f = Decode(bytes, sizeof(T));
  if (!f) return std::unexpected(f.error());
  if (auto ok = CheckTyped(*f, T::kWireType, sizeof(T)); !ok) return std::unexpected(ok.error());
  T out;
  std::memcpy(&out, f->payload.data(), sizeof(T));
  return out;
}

// Cuts frames out of a byte stream (a pipe, a stream socket), where reads return arbitrary
// pieces. Feed it what read() returned; Next() yields each complete frame in order.
//
// A header is validated as soon as its 16 bytes are in, so an absurd length is refused before
// anything is buffered for it. After an error the decoder is poisoned: the stream has lost frame
// sync and every later Next() returns the same error (resynchronising on a byte stream would
// silently drop or invent messages).
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload = kMaxPayload) : max_payload_(max_payload) {}

  void Feed(std::span<const std::byte> bytes);
  // A frame, std::nullopt when more bytes are needed, or the error that poisoned the stream.
  sys::Result<std::optional<Frame>> Next();
  // Call at end of stream: an error if a partial frame is left (the writer died mid-frame).
  sys::Status Finish() const;
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_payload_;
  std::vector<std::byte> buf_;
  size_t pos_ = 0;  // consumed prefix of buf_
  std::optional<Header> header_;
  std::optional<sys::SysError> error_;
};

}  // namespace ipc::wire
