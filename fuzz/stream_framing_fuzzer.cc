// Stream framing: ipc::wire::FrameDecoder fed the same byte stream in input-chosen chunkings
// (what read() on a pipe or a stream socket returns) must behave exactly as when fed the whole
// stream at once: the same frames in the same order, and the same verdict (clean end, partial
// frame at end, or the same poisoning error). The first bytes of the input choose the chunk
// sizes (a cycle of up to 8 sizes of 1..256 bytes, 0 meaning one byte at a time), the rest is
// the stream. A second pass sends the stream through a real socketpair in those chunks, reading
// with whatever the kernel returns; a third reads it with ipc::socket::FrameReader (what a socket
// peer's frames go through), which must yield the same frames and end with the same error, or
// ECONNRESET for a stream that ends inside a frame.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "ipc/socket/socket.h"
#include "ipc/sys/deadline.h"
#include "ipc/wire/wire.h"

namespace {

constexpr size_t kLimit = 2048;

struct Outcome {
  std::vector<ipc::wire::Frame> frames;
  std::optional<int> error;  // errno of the poisoning error
  bool clean_end = false;
};

void Drain(ipc::wire::FrameDecoder& dec, Outcome& out) {
  while (!out.error) {
    auto f = dec.Next();
    if (!f) {
      out.error = f.error().err;
      // Poisoned: every later call reports the same error.
      auto again = dec.Next();
      if (again || again.error().err != *out.error) std::abort();
      return;
    }
    if (!*f) return;
    if ((*f)->payload.size() > kLimit) std::abort();
    out.frames.push_back(std::move(**f));
  }
}

void Finish(const ipc::wire::FrameDecoder& dec, Outcome& out) {
  if (!out.error) out.clean_end = dec.Finish().has_value();
}

bool Same(const Outcome& a, const Outcome& b) {
  if (a.frames.size() != b.frames.size() || a.error != b.error || a.clean_end != b.clean_end) {
    return false;
  }
  for (size_t i = 0; i < a.frames.size(); ++i) {
    const auto& x = a.frames[i];
    const auto& y = b.frames[i];
    if (x.header.type != y.header.type || x.header.flags != y.header.flags ||
        x.header.length != y.header.length || x.header.crc != y.header.crc || x.payload != y.payload) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t ncuts = 1 + data[0] % 8;
  if (size < 1 + ncuts) return 0;
  std::vector<size_t> cuts;
  for (size_t i = 0; i < ncuts; ++i) cuts.push_back(data[1 + i] == 0 ? 1 : data[1 + i]);
  std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data) + 1 + ncuts,
                                    size - 1 - ncuts);

  Outcome whole;
  {
    ipc::wire::FrameDecoder dec(kLimit);
    dec.Feed(stream);
    Drain(dec, whole);
    Finish(dec, whole);
  }
  Outcome pieces;
  {
    ipc::wire::FrameDecoder dec(kLimit);
    size_t at = 0, k = 0;
    while (at < stream.size()) {
      size_t n = std::min(cuts[k++ % cuts.size()], stream.size() - at);
      dec.Feed(stream.subspan(at, n));
      at += n;
      Drain(dec, pieces);
    }
    Drain(dec, pieces);
    Finish(dec, pieces);
  }
  if (!Same(whole, pieces)) std::abort();

  // Through a real stream socket: the kernel may coalesce or split the writes, the verdict must
  // not change. Reads what is pending after every write, so the socket never fills.
  {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    Outcome socket;
    ipc::wire::FrameDecoder dec(kLimit);
    std::byte buf[512];
    auto read_pending = [&](int flags) {
      for (;;) {
        ssize_t got = ::recv(sv[0], buf, sizeof buf, flags);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == EAGAIN) return;
        if (got < 0) std::abort();
        if (got == 0) return;
        dec.Feed({buf, static_cast<size_t>(got)});
        Drain(dec, socket);
      }
    };
    size_t at = 0, k = 0;
    while (at < stream.size()) {
      size_t n = std::min(cuts[k++ % cuts.size()], stream.size() - at);
      if (::write(sv[1], stream.data() + at, n) != static_cast<ssize_t>(n)) std::abort();
      at += n;
      read_pending(MSG_DONTWAIT);
    }
    ::close(sv[1]);
    read_pending(0);
    ::close(sv[0]);
    Finish(dec, socket);
    if (!Same(whole, socket)) std::abort();
  }

  // ipc::socket::FrameReader over a socketpair: the peer sends everything and half-closes (the
  // stream fits the socket buffer: max_len is 4096).
  {
    auto pair = ipc::socket::MakePair(ipc::socket::Kind::kStream);
    if (!pair) std::abort();
    auto deadline = ipc::sys::Deadline::After(std::chrono::seconds(5));
    if (!ipc::socket::SendAll(pair->b.get(), stream, deadline)) std::abort();
    if (!ipc::socket::HalfClose(pair->b.get())) std::abort();
    Outcome reader;
    ipc::socket::FrameReader frames(pair->a.get(), kLimit);
    for (;;) {
      auto f = frames.Next(deadline);
      if (!f) {
        reader.error = f.error().err;
        break;
      }
      if (!*f) {
        reader.clean_end = true;
        break;
      }
      reader.frames.push_back(std::move(**f));
    }
    // The reader reports a partial frame at the end of the stream as ECONNRESET.
    Outcome want = whole;
    if (!want.error && !want.clean_end) want.error = ECONNRESET;
    if (!Same(want, reader)) std::abort();
  }
  return 0;
}
