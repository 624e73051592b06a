// properties/planted/planted_ring.h: a TEST-ONLY byte ring with the same framing as
// ipc::ring::SpscRing (4-byte length, bytes, padding to 8; frames may wrap) and a planted
// off-by-one at the wrap-around: when a frame's bytes wrap past the end of the buffer, the copy
// out stops one byte early and takes the rest from the start, so a wrapped message comes back
// shifted by a byte. Messages that do not wrap are delivered correctly, which is why only a
// sequence that fills the ring past its end finds it. Used by spsc_ring_model_property_test.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "ipc/sys/sys.h"

namespace properties::planted {

class OffByOneRing {
 public:
  explicit OffByOneRing(std::uint32_t capacity) : data_(capacity), capacity_(capacity) {}
  std::uint32_t max_message() const { return capacity_ - 8; }

  ipc::sys::Result<bool> TrySend(std::span<const std::byte> msg) {
    if (msg.size() > max_message()) return ipc::sys::Fail("planted.send", "ring", EMSGSIZE);
    auto len = static_cast<std::uint32_t>(msg.size());
    std::uint32_t need = (4 + len + 7) & ~7u;
    if (capacity_ - (head_ - tail_) < need) return false;
    std::uint32_t off = head_ & (capacity_ - 1);
    std::memcpy(data_.data() + off, &len, 4);
    std::uint32_t at = (off + 4) & (capacity_ - 1);
    std::uint32_t first = std::min(len, capacity_ - at);
    if (len > 0) {  // an empty span may carry a null pointer
      std::memcpy(data_.data() + at, msg.data(), first);
      std::memcpy(data_.data(), msg.data() + first, len - first);
    }
    head_ += need;
    return true;
  }

  ipc::sys::Result<std::optional<std::size_t>> TryReceive(std::span<std::byte> out) {
    if (head_ == tail_) return std::nullopt;
    std::uint32_t off = tail_ & (capacity_ - 1);
    std::uint32_t len = 0;
    std::memcpy(&len, data_.data() + off, 4);
    if (len > out.size()) return ipc::sys::Fail("planted.receive", "ring", EMSGSIZE);
    std::uint32_t at = (off + 4) & (capacity_ - 1);
    std::uint32_t first = std::min(len, capacity_ - at);
    if (first < len) --first;  // PLANTED BUG: off by one at the wrap-around
    if (len > 0) {
      std::memcpy(out.data(), data_.data() + at, first);
      std::memcpy(out.data() + first, data_.data(), len - first);
    }
    tail_ += (4 + len + 7) & ~7u;
    return std::optional<std::size_t>(len);
  }

 private:
  std::vector<std::byte> data_;
  std::uint32_t capacity_;
  std::uint32_t head_ = 0;
  std::uint32_t tail_ = 0;
};

}  // namespace properties::planted
