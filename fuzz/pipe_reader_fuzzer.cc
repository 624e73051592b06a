// Fuzzes PipeReader's record parsing and chunk reassembly (ipc/pipe/pipe.h) on bytes a hostile
// or dying writer put in a real pipe (pipe2: no /dev needed).
//
// Mode byte 0 (even): the rest of the input is written raw; the reader must end with messages,
// end of file or one clear error (EPROTO, EMSGSIZE, ECONNRESET), never crash, and never deliver a
// message over its limit.
// Mode byte odd: the input describes messages from up to three writers (lengths up to 3 records,
// so they are chunked); the records are written in an input-chosen interleaving of writers, and
// the reader must deliver exactly those messages, each writer's in its order.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "ipc/pipe/pipe.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"

namespace {

constexpr size_t kMaxMessage = 3 * ipc::pipe::kAtomicPayload;

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    r = fds[0];
    w = fds[1];
    ::fcntl(w, F_SETPIPE_SZ, 1 << 20);  // best effort; inputs are kept under the default 64 KiB
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  void CloseWriter() {
    ::close(w);
    w = -1;
  }
};

void DrainRaw(const uint8_t* data, size_t size) {
  if (size > 60000) return;
  Pipe p;
  if (size > 0 && ::write(p.w, data, size) != static_cast<ssize_t>(size)) std::abort();
  p.CloseWriter();
  ipc::pipe::PipeReader reader(p.r, kMaxMessage);
  for (;;) {
    auto m = reader.Receive(ipc::sys::Deadline::After(std::chrono::seconds(5)));
    if (!m) {
      int e = m.error().err;
      if (e != EPROTO && e != EMSGSIZE && e != ECONNRESET) {
        std::fprintf(stderr, "unexpected reader error: %s\n", m.error().message().c_str());
        std::abort();
      }
      // Poisoned: the same error again.
      auto again = reader.Receive(ipc::sys::Deadline::After(std::chrono::seconds(1)));
      if (again || again.error().err != e) {
        std::fprintf(stderr, "reader not poisoned after: %s\n", m.error().message().c_str());
        std::abort();
      }
      return;
    }
    if (!*m) return;
    if ((*m)->size() > kMaxMessage) std::abort();
  }
}

// Bytes a message of `len` occupies in the pipe: its records' headers and its bytes.
size_t PipeBytes(size_t len) {
  return len + ipc::pipe::kRecordHeaderSize * (len / ipc::pipe::kAtomicPayload + 1);
}

// Writers' messages sent through PipeWriter, interleaved as the input says. A PipeWriter sends a
// whole message per call, so interleaving is at message granularity between writers; chunking
// of long messages is exercised by the lengths.
void RoundTrip(const uint8_t* data, size_t size) {
  Pipe p;
  std::vector<ipc::pipe::PipeWriter> writers;
  for (uint32_t id = 1; id <= 3; ++id) writers.emplace_back(p.w, id);
  // Each Send returns before the next starts, so messages arrive in the order they were sent.
  std::deque<std::vector<std::byte>> sent;
  size_t total = 0;
  ipc::pipe::PipeReader reader(p.r, kMaxMessage);
  auto drain_one = [&] {
    auto m = reader.Receive(ipc::sys::Deadline::After(std::chrono::seconds(5)));
    if (!m || !*m) {
      std::fprintf(stderr, "round trip: %s\n", m ? "end of file" : m.error().message().c_str());
      std::abort();
    }
    if (sent.empty() || sent.front() != **m) {
      std::fprintf(stderr, "round trip: unexpected message of %zu bytes\n", (*m)->size());
      std::abort();
    }
    total -= PipeBytes(sent.front().size());
    sent.pop_front();
  };
  size_t queued = 0;
  for (size_t i = 0; i + 1 < size; i += 2) {
    uint32_t id = 1 + data[i] % 3;
    size_t len = (size_t(data[i + 1]) * 97) % (kMaxMessage + 1);
    std::vector<std::byte> msg(len);
    for (size_t k = 0; k < len; ++k) msg[k] = std::byte(k == 0 ? id : (k * 31 + i) & 0xff);
    if (total + PipeBytes(len) > 60000) {
      // Keep the pipe from filling (one thread writes and reads): drain first.
      while (queued > 0) {
        drain_one();
        --queued;
      }
    }
    if (auto ok = writers[id - 1].Send(msg); !ok) {
      std::fprintf(stderr, "round trip: send: %s\n", ok.error().message().c_str());
      std::abort();
    }
    sent.push_back(std::move(msg));
    total += PipeBytes(len);
    ++queued;
  }
  while (queued > 0) {
    drain_one();
    --queued;
  }
  p.CloseWriter();
  auto end = reader.Receive(ipc::sys::Deadline::After(std::chrono::seconds(5)));
  if (!end || *end) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    RoundTrip(data + 1, size - 1);
  } else {
    DrainRaw(data + 1, size - 1);
  }
  return 0;
}
