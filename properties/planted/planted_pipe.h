// properties/planted/planted_pipe.h: a TEST-ONLY copy of ipc::pipe::PipeReader with a planted
// lost frame boundary: it decides that a message has ended when a record is SHORTER than a full
// chunk (kAtomicPayload bytes) instead of reading the record's "last" flag. Every message whose
// length is not a multiple of kAtomicPayload (4080) comes out right; a message of exactly 4080
// (or 8160, ...) bytes is not delivered and is glued to the same writer's next message. Used by
// pipe_model_property_test to show the model-based property catches and shrinks it.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "ipc/pipe/io.h"
#include "ipc/pipe/pipe.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace properties::planted {

class LostBoundaryPipeReader {
 public:
  explicit LostBoundaryPipeReader(int fd) : fd_(fd) {}

  ipc::sys::Result<std::optional<std::vector<std::byte>>> Receive(ipc::sys::Deadline deadline) {
    for (;;) {
      if (!ready_.empty()) {
        auto m = std::move(ready_.front());
        ready_.erase(ready_.begin());
        return std::optional(std::move(m));
      }
      if (error_) return std::unexpected(*error_);
      if (eof_) {
        if (!partial_.empty() || pos_ != buf_.size()) {
          error_ = ipc::sys::Error("planted.receive", "pipe", ECONNRESET, "writer died mid-message");
          continue;
        }
        return std::optional<std::vector<std::byte>>();
      }
      std::vector<std::byte> chunk(65536);
      auto n = ipc::pipe::ReadSome(fd_, chunk, deadline);
      if (!n) return std::unexpected(n.error());
      if (*n == 0) {
        eof_ = true;
        continue;
      }
      buf_.insert(buf_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
      Parse();
    }
  }

 private:
  static std::uint32_t Get(const std::byte* p, int n) {
    std::uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | std::uint8_t(p[i]);
    return v;
  }
  void Parse() {
    for (;;) {
      std::size_t avail = buf_.size() - pos_;
      if (avail < ipc::pipe::kRecordHeaderSize) return;
      const std::byte* h = buf_.data() + pos_;
      if (Get(h, 2) != 0x5050) {
        error_ = ipc::sys::Error("planted.receive", "pipe", EPROTO, "bad record magic");
        return;
      }
      std::size_t len = Get(h + 4, 2);
      std::uint32_t writer = Get(h + 8, 4);
      if (avail < ipc::pipe::kRecordHeaderSize + len) return;
      auto& data = partial_[writer];
      const std::byte* body = h + ipc::pipe::kRecordHeaderSize;
      data.insert(data.end(), body, body + len);
      pos_ += ipc::pipe::kRecordHeaderSize + len;
      if (len < ipc::pipe::kAtomicPayload) {  // PLANTED BUG: should test the record's last flag
        ready_.push_back(std::move(data));
        partial_.erase(writer);
      }
    }
  }

  int fd_;
  std::vector<std::byte> buf_;
  std::size_t pos_ = 0;
  std::map<std::uint32_t, std::vector<std::byte>> partial_;
  std::vector<std::vector<std::byte>> ready_;
  std::optional<ipc::sys::SysError> error_;
  bool eof_ = false;
};

}  // namespace properties::planted
