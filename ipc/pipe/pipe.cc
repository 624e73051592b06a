#include "ipc/pipe/pipe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "ipc/pipe/io.h"

namespace ipc::pipe {
IPCLAB_CHAOS_NAMESPACE_BEGIN
namespace {

constexpr uint16_t kRecordMagic = 0x5050;
constexpr uint8_t kFirst = 1;
constexpr uint8_t kLast = 2;

void Put16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v);
  p[1] = std::byte(v >> 8);
}
void Put32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte(v >> (8 * i));
}
uint16_t Get16(const std::byte* p) { return uint16_t(uint16_t(p[0]) | uint16_t(p[1]) << 8); }
uint32_t Get32(const std::byte* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

sys::Result<PipedChild> ForkWithPipe(ChildEnd child_end, std::function<int(sys::Fd&)> body) {
  auto p = sys::MakePipe();
  if (!p) return std::unexpected(p.error());
  sys::Fd* child_fd = child_end == ChildEnd::kRead ? &p->read : &p->write;
  sys::Fd* parent_fd = child_end == ChildEnd::kRead ? &p->write : &p->read;
  auto child = signal::Child::Fork([&]() -> int {
    parent_fd->reset();  // else the parent's reader never sees EOF / the child never sees EPIPE
    return body(*child_fd);
  });
  if (!child) return std::unexpected(child.error());
  child_fd->reset();
  return PipedChild{std::move(*child), std::move(*parent_fd)};
}

sys::Result<std::string> MakeFifo(const audit::PrivateDir& dir, std::string_view name) {
  std::string path = dir.file(name);
  auto r = sys::Call("mkfifo", path, [&] { return ::mkfifo(path.c_str(), 0600); });
  if (!r) return std::unexpected(r.error());
  return path;
}

sys::Result<sys::Fd> OpenFifoReader(const std::string& path, FifoOpen mode) {
  int flags = O_RDONLY | O_CLOEXEC | (mode == FifoOpen::kNonBlock ? O_NONBLOCK : 0);
  // open() of a FIFO waits in the kernel and returns EINTR when a handler without SA_RESTART runs.
  auto fd = sys::Retry("open(fifo, O_RDONLY)", path, [&] { return ::open(path.c_str(), flags); });
  if (!fd) return std::unexpected(fd.error());
  return sys::Fd(*fd);
}

sys::Result<sys::Fd> OpenFifoWriter(const std::string& path, sys::Deadline deadline) {
  auto backoff = std::chrono::microseconds(100);
  bool waited = false;
  for (;;) {
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      sys::Fd owned(fd);
      if (auto ok = sys::SetNonBlocking(fd, false); !ok) return std::unexpected(ok.error());
      return owned;
    }
    if (errno == EINTR) continue;
    if (errno != ENXIO) return sys::Fail("open(fifo, O_WRONLY)", path);
    if (deadline.expired()) {
      return sys::Fail("open(fifo, O_WRONLY)", path, waited ? ETIMEDOUT : ENXIO,
                       "no reader has the FIFO open");
    }
    waited = true;
    auto left = deadline.remaining();
    std::this_thread::sleep_for(std::min<sys::Deadline::Clock::duration>(backoff, left));
    backoff = std::min(backoff * 2, std::chrono::microseconds(10'000));
  }
}

PipeWriter::PipeWriter(int fd, uint32_t writer_id)
    : fd_(fd), kind_(KindOf(fd)), id_(writer_id != 0 ? writer_id : static_cast<uint32_t>(::gettid())) {
  buf_.reserve(PIPE_BUF);
}

sys::Status PipeWriter::Send(std::span<const std::byte> message, sys::Deadline deadline) {
  if (broken_) {
    return sys::Fail("pipe.send", sys::FdName(fd_), EPIPE,
                     "writer broken by an earlier partial message");
  }
  const uint32_t seq = seq_++;
  size_t done = 0;
  do {
    size_t n = std::min(kAtomicPayload, message.size() - done);
    uint8_t flags = (done == 0 ? kFirst : 0) | (done + n == message.size() ? kLast : 0);
    buf_.resize(kRecordHeaderSize + n);
    Put16(buf_.data(), kRecordMagic);
    buf_[2] = std::byte(flags);
    buf_[3] = std::byte{0};
    Put16(buf_.data() + 4, static_cast<uint16_t>(n));
    Put16(buf_.data() + 6, 0);
    Put32(buf_.data() + 8, id_);
    Put32(buf_.data() + 12, seq);
    if (n > 0) std::memcpy(buf_.data() + kRecordHeaderSize, message.data() + done, n);
    // Between the records of one message: a writer killed here leaves a partial message.
    if (done > 0) IPCLAB_CRASH_POINT("pipe.between_records");
    IPCLAB_CHAOS_POINT("pipe.before_record");
    // A record is at most PIPE_BUF bytes: one write() moves it whole (the kernel never splits it,
    // even under a deadline, because WriteAll cuts pieces at PIPE_BUF).
    if (auto ok = WriteAll(fd_, buf_, deadline, kind_); !ok) {
      if (done > 0) broken_ = true;
      return ok;
    }
    done += n;
  } while (done < message.size());
  return {};
}

PipeReader::PipeReader(int fd, size_t max_message) : fd_(fd), max_message_(max_message) {}

sys::Status PipeReader::Parse() {
  for (;;) {
    size_t avail = buf_.size() - pos_;
    if (avail < kRecordHeaderSize) break;
    const std::byte* h = buf_.data() + pos_;
    uint16_t magic = Get16(h);
    uint8_t flags = uint8_t(h[2]);
    size_t len = Get16(h + 4);
    uint32_t writer = Get32(h + 8);
    uint32_t seq = Get32(h + 12);
    auto bad = [&](int err, std::string detail) {
      return sys::Fail("pipe.receive", sys::FdName(fd_), err, detail);
    };
    if (magic != kRecordMagic) return bad(EPROTO, fmt::format("bad record magic 0x{:04x}", magic));
    if ((flags & ~(kFirst | kLast)) || h[3] != std::byte{0}) {
      return bad(EPROTO, fmt::format("bad record flags 0x{:02x}", flags));
    }
    if (len > kAtomicPayload) {
      return bad(EPROTO, fmt::format("record of {} bytes over the atomic limit {}", len, kAtomicPayload));
    }
    if (avail < kRecordHeaderSize + len) break;
    const std::byte* body = h + kRecordHeaderSize;
    auto it = partial_.find(writer);
    if (flags & kFirst) {
      if (it != partial_.end()) {
        return bad(EPROTO, fmt::format("writer {} started message {} before finishing {}", writer,
                                       seq, it->second.seq));
      }
      it = partial_.emplace(writer, Partial{seq, {}}).first;
    } else if (it == partial_.end() || it->second.seq != seq) {
      return bad(EPROTO, fmt::format("chunk of message {} from writer {} out of sequence", seq, writer));
    }
    if (it->second.data.size() + len > max_message_) {
      return bad(EMSGSIZE, fmt::format("message from writer {} over the limit of {} bytes", writer,
                                       max_message_));
    }
    it->second.data.insert(it->second.data.end(), body, body + len);
    pos_ += kRecordHeaderSize + len;
    if (flags & kLast) {
      IPCLAB_CHAOS_POINT("pipe.message_complete");
      ready_.push_back(std::move(it->second.data));
      partial_.erase(it);
    }
  }
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  return {};
}

sys::Result<std::optional<std::vector<std::byte>>> PipeReader::Receive(sys::Deadline deadline) {
  for (;;) {
    if (ready_pos_ < ready_.size()) {
      auto m = std::move(ready_[ready_pos_++]);
      if (ready_pos_ == ready_.size()) {
        ready_.clear();
        ready_pos_ = 0;
      }
      return std::optional(std::move(m));
    }
    if (error_) return std::unexpected(*error_);
    if (eof_) {
      if (!partial_.empty()) {
        const auto& [writer, p] = *partial_.begin();
        error_ = sys::Error("pipe.receive", sys::FdName(fd_), ECONNRESET,
                            fmt::format("end of file with message {} of writer {} incomplete "
                                        "({} bytes): the writer died mid-message",
                                        p.seq, writer, p.data.size()));
        return std::unexpected(*error_);
      }
      if (buf_.size() != pos_) {
        error_ = sys::Error("pipe.receive", sys::FdName(fd_), ECONNRESET,
                            fmt::format("end of file inside a record ({} bytes of it)",
                                        buf_.size() - pos_));
        return std::unexpected(*error_);
      }
      return std::optional<std::vector<std::byte>>();
    }
    if (chunk_.empty()) chunk_.resize(65536);  // once: a resize per read would zero 64 KiB
    auto n = ReadSome(fd_, chunk_, deadline);
    if (!n) return std::unexpected(n.error());
    buf_.insert(buf_.end(), chunk_.begin(), chunk_.begin() + static_cast<std::ptrdiff_t>(*n));
    if (*n == 0) {
      eof_ = true;
      continue;
    }
    if (auto ok = Parse(); !ok) {
      // Messages completed before the bad record are delivered first; then the error, for good.
      error_ = ok.error();
      continue;
    }
  }
}

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::pipe
