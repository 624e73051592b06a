#include "ipc/wire/wire.h"

#include <cerrno>
#include <array>

#include <fmt/format.h>

namespace ipc::wire {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = MakeCrcTable();

uint32_t Load32(const std::byte* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t Load16(const std::byte* p) { return uint16_t(uint16_t(p[0]) | uint16_t(p[1]) << 8); }
void Store32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte(v >> (8 * i));
}
void Store16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v);
  p[1] = std::byte(v >> 8);
}

std::unexpected<sys::SysError> Bad(int err, std::string detail) {
  return sys::Fail("wire.decode", "frame", err, detail);
}

}  // namespace

uint32_t Crc32(std::span<const std::byte> data) {
  uint32_t c = 0xFFFFFFFFu;
  for (std::byte b : data) c = kCrcTable[(c ^ uint32_t(b)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void WriteHeader(const Header& h, std::byte out[kHeaderSize]) {
  Store32(out, h.magic);
  out[4] = std::byte(h.version);
  out[5] = std::byte(h.flags);
  Store16(out + 6, h.type);
  Store32(out + 8, h.length);
  Store32(out + 12, h.crc);
}

sys::Result<Header> ParseHeader(std::span<const std::byte> b, size_t max_payload) {
  if (b.size() < kHeaderSize) {
    return Bad(EBADMSG, fmt::format("truncated header: {} of {} bytes", b.size(), kHeaderSize));
  }
  Header h;
  h.magic = Load32(b.data());
  h.version = uint8_t(b[4]);
  h.flags = uint8_t(b[5]);
  h.type = Load16(b.data() + 6);
  h.length = Load32(b.data() + 8);
  h.crc = Load32(b.data() + 12);
  if (h.magic != kMagic) {
    return Bad(EPROTO, fmt::format("bad magic 0x{:08x}, want 0x{:08x}", h.magic, kMagic));
  }
  if (h.version != kVersion) {
    return Bad(EPROTONOSUPPORT,
               fmt::format("wire version {} not supported (this build speaks {})", h.version,
                           kVersion));
  }
  if (h.flags & ~kKnownFlags) return Bad(EPROTO, fmt::format("unknown flags 0x{:02x}", h.flags));
  if (h.type == 0) return Bad(EPROTO, "message type 0 is reserved");
  if (h.length > max_payload) {
    return Bad(EMSGSIZE,
               fmt::format("payload length {} over the limit of {} bytes", h.length, max_payload));
  }
  return h;
}

sys::Status EncodeInto(std::vector<std::byte>& out, uint16_t type,
                       std::span<const std::byte> payload, uint8_t flags, size_t max_payload) {
  if (type == 0) return sys::Fail("wire.encode", "frame", EINVAL, "message type 0 is reserved");
  if (flags & ~kKnownFlags) {
    return sys::Fail("wire.encode", "frame", EINVAL, fmt::format("unknown flags 0x{:02x}", flags));
  }
  if (payload.size() > max_payload || payload.size() > UINT32_MAX) {
    return sys::Fail("wire.encode", "frame", EMSGSIZE,
                     fmt::format("payload of {} bytes over the limit of {} bytes", payload.size(),
                                 max_payload));
  }
  Header h{.flags = flags, .type = type, .length = uint32_t(payload.size()), .crc = Crc32(payload)};
  size_t at = out.size();
  out.resize(at + kHeaderSize + payload.size());
  WriteHeader(h, out.data() + at);
  if (!payload.empty()) std::memcpy(out.data() + at + kHeaderSize, payload.data(), payload.size());
  return {};
}

sys::Result<std::vector<std::byte>> Encode(uint16_t type, std::span<const std::byte> payload,
                                           uint8_t flags, size_t max_payload) {
  std::vector<std::byte> out;
  out.reserve(kHeaderSize + payload.size());
  if (auto ok = EncodeInto(out, type, payload, flags, max_payload); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

sys::Result<FrameView> Decode(std::span<const std::byte> bytes, size_t max_payload) {
  auto h = ParseHeader(bytes, max_payload);
  if (!h) return std::unexpected(h.error());
  size_t have = bytes.size() - kHeaderSize;
  if (have < h->length) {
    return Bad(EBADMSG, fmt::format("truncated payload: {} of {} bytes", have, h->length));
  }
  if (have > h->length) {
    return Bad(EBADMSG, fmt::format("{} trailing bytes after a {}-byte payload", have - h->length,
                                    h->length));
  }
  auto payload = bytes.subspan(kHeaderSize, h->length);
  uint32_t crc = Crc32(payload);
  if (crc != h->crc) {
    return Bad(EBADMSG, fmt::format("payload crc32 0x{:08x} != header crc32 0x{:08x}", crc, h->crc));
  }
  return FrameView{*h, payload};
}

sys::Status CheckTyped(const FrameView& f, uint16_t want_type, size_t want_size) {
  if (f.header.type != want_type) {
    return sys::Fail("wire.decode", "typed frame", EPROTO,
                     fmt::format("message type {} where {} was expected", f.header.type, want_type));
  }
  if (f.payload.size() != want_size) {
    return sys::Fail("wire.decode", "typed frame", EBADMSG,
                     fmt::format("payload of {} bytes for a {}-byte message", f.payload.size(),
                                 want_size));
  }
  return {};
}

void FrameDecoder::Feed(std::span<const std::byte> bytes) {
  if (error_ || bytes.empty()) return;
  // Compact once the consumed prefix dominates, so a long stream does not grow the buffer.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

sys::Result<std::optional<Frame>> FrameDecoder::Next() {
  if (error_) return std::unexpected(*error_);
  std::span<const std::byte> avail(buf_.data() + pos_, buf_.size() - pos_);
  if (!header_) {
    if (avail.size() < kHeaderSize) return std::optional<Frame>();
    auto h = ParseHeader(avail, max_payload_);
    if (!h) {
      error_ = h.error();
      return std::unexpected(*error_);
    }
    header_ = *h;
  }
  if (avail.size() < kHeaderSize + header_->length) return std::optional<Frame>();
  auto payload = avail.subspan(kHeaderSize, header_->length);
  if (uint32_t crc = Crc32(payload); crc != header_->crc) {
    error_ = sys::Error("wire.decode", "frame", EBADMSG,
                        fmt::format("payload crc32 0x{:08x} != header crc32 0x{:08x}", crc,
                                    header_->crc));
    return std::unexpected(*error_);
  }
  Frame f{*header_, std::vector<std::byte>(payload.begin(), payload.end())};
  pos_ += kHeaderSize + header_->length;
  header_.reset();
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return std::optional<Frame>(std::move(f));
}

sys::Status FrameDecoder::Finish() const {
  if (error_) return std::unexpected(*error_);
  if (buffered() != 0) {
    return sys::Fail("wire.decode", "stream", EBADMSG,
                     fmt::format("stream ended inside a frame ({} bytes of it buffered)",
                                 buffered()));
  }
  return {};
}

}  // namespace ipc::wire
