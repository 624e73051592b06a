// ipc/pipe: anonymous pipes, FIFOs and framed messages over them.
//
// Anonymous pipes are created close-on-exec (sys::MakePipe). `ForkWithPipe` forks a child and
// closes the unused end on both sides, which prevents the classic hang: a reader sees end of file
// only when every write end is closed, and a parent that forgets its own copy of the write end
// waits forever.
//
// FIFOs live in a PrivateDir (mode 0600). Their open semantics:
//   - a reader's open blocks until a writer opens (OpenFifoReader(kBlock)); with O_NONBLOCK it
//     returns at once, and read() then reports end of file until a writer appears;
//   - a writer's O_NONBLOCK open fails with ENXIO while no reader has it open. OpenFifoWriter
//     retries that with a short backoff until its deadline (ETIMEDOUT), so it never blocks forever.
//
// Framed messages (PipeWriter / PipeReader). Every write(2) carries one record: a 16-byte record
// header and up to PIPE_BUF - 16 bytes of message. POSIX makes writes of at most PIPE_BUF bytes to
// a pipe atomic, so records from many writers never interleave:
//
//   - a message of at most kAtomicPayload (PIPE_BUF - 16 = 4080 bytes on Linux) is one record,
//     written atomically, whatever the number of writers;
//   - a longer message is CHUNKED: records of kAtomicPayload bytes (the last one shorter), each
//     tagged with the writer id (its thread id) and the writer's message sequence number, flagged
//     first/last. Chunks of different writers may interleave in the pipe; the reader reassembles
//     each writer's message separately and delivers it whole when its last chunk arrives. Messages
//     of one writer arrive in the order that writer sent them; messages of different writers in the
//     order their (last) records reached the pipe.
//
//   record header (little-endian): magic u16 0x5050 | flags u8 (1 first, 2 last) | reserved u8 |
//                                  chunk length u16 | reserved u16 | writer u32 | sequence u32
//
// A writer whose message was cut short (a deadline expired, the reader vanished) is broken: its
// later sends fail, because the reader would otherwise splice two messages together. A reader that
// sees a malformed record (bad magic, a chunk out of sequence, a message over its limit) fails with
// EPROTO/EMSGSIZE and stays failed: the byte stream has lost sync. End of file while a writer's
// message is incomplete is ECONNRESET naming that writer (it died mid-message).
//
// Signals: every blocking call here retries after EINTR; a deadline bounds the total wait.
#pragma once

#include <limits.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ipc/chaos/chaos.h"
#include "ipc/audit/names.h"
#include "ipc/pipe/io.h"
#include "ipc/signal/signal.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"

namespace ipc::pipe {
IPCLAB_CHAOS_NAMESPACE_BEGIN

inline constexpr size_t kRecordHeaderSize = 16;
inline constexpr size_t kAtomicPayload = PIPE_BUF - kRecordHeaderSize;
inline constexpr size_t kDefaultMaxMessage = size_t{1} << 20;

// Which end the child keeps.
enum class ChildEnd { kRead, kWrite };

struct PipedChild {
  signal::Child child;
  sys::Fd fd;  // the parent's end
};

// Creates a pipe and forks. The child closes the parent's end, runs `body` with its own end, and
// _exit()s with its return value; the parent closes the child's end before returning.
sys::Result<PipedChild> ForkWithPipe(ChildEnd child_end, std::function<int(sys::Fd&)> body);

// mkfifo(dir/name, 0600). The path is dir.file(name).
sys::Result<std::string> MakeFifo(const audit::PrivateDir& dir, std::string_view name);

enum class FifoOpen { kBlock, kNonBlock };
// Reader end (O_RDONLY | O_CLOEXEC). kBlock waits for a writer (retrying after EINTR); kNonBlock
// returns at once and leaves O_NONBLOCK set.
sys::Result<sys::Fd> OpenFifoReader(const std::string& path, FifoOpen mode);
// Writer end: waits for a reader until `deadline` (ENXIO retried with backoff, then ETIMEDOUT;
// an already expired deadline gives the plain ENXIO). The returned fd is blocking.
sys::Result<sys::Fd> OpenFifoWriter(const std::string& path, sys::Deadline deadline);

class PipeWriter {
 public:
  // Does not own `fd`. `writer_id` tells this writer's chunks apart; 0 means the thread id.
  explicit PipeWriter(int fd, uint32_t writer_id = 0);
  // Sends one message (atomically if it fits kAtomicPayload, chunked otherwise). EPIPE when no
  // reader is left, ETIMEDOUT at the deadline, EMSGSIZE over `max_message`.
  sys::Status Send(std::span<const std::byte> message,
                   sys::Deadline deadline = sys::Deadline::Never());
  uint32_t writer_id() const { return id_; }
  bool broken() const { return broken_; }

 private:
  int fd_;
  FdKind kind_;  // asked once: a PipeWriter may also write to a stream socket
  uint32_t id_;
  uint32_t seq_ = 0;
  bool broken_ = false;
  std::vector<std::byte> buf_;
};

class PipeReader {
 public:
  // Does not own `fd`.
  explicit PipeReader(int fd, size_t max_message = kDefaultMaxMessage);
  // The next whole message; std::nullopt at end of file (every write end closed and no message
  // left incomplete). ETIMEDOUT at the deadline (the reader stays usable).
  sys::Result<std::optional<std::vector<std::byte>>> Receive(
      sys::Deadline deadline = sys::Deadline::Never());

 private:
  // Parses complete records out of buf_; a whole message goes to ready_.
  sys::Status Parse();

  int fd_;
  size_t max_message_;
  std::vector<std::byte> buf_;    // bytes read, not yet parsed from pos_ on
  std::vector<std::byte> chunk_;  // what one read() fills
  size_t pos_ = 0;
  struct Partial {
    uint32_t seq;
    std::vector<std::byte> data;
  };
  std::map<uint32_t, Partial> partial_;  // by writer id
  std::vector<std::vector<std::byte>> ready_;
  size_t ready_pos_ = 0;
  std::optional<sys::SysError> error_;
  bool eof_ = false;
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::pipe
