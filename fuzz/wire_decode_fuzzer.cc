// Fuzzes the wire decoders on hostile bytes: what a dead, buggy or malicious peer can put in a
// pipe, a socket or a mailbox. Neither decoder may crash, allocate past its limit or accept a
// frame that does not re-encode to exactly the bytes it came from.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "ipc/wire/wire.h"

namespace {

constexpr size_t kLimit = 4096;

void CheckRoundTrip(const ipc::wire::Header& h, std::span<const std::byte> payload,
                    std::span<const std::byte> original) {
  auto again = ipc::wire::Encode(h.type, payload, h.flags, kLimit);
  if (!again || again->size() != original.size() ||
      std::memcmp(again->data(), original.data(), original.size()) != 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);

  // One whole frame.
  if (auto v = ipc::wire::Decode(in, kLimit)) {
    if (v->payload.size() > kLimit) std::abort();
    CheckRoundTrip(v->header, v->payload, in);
  }

  // A stream fed in pieces whose sizes come from the input itself.
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 64;
  ipc::wire::FrameDecoder dec(kLimit);
  std::vector<std::byte> reencoded;
  bool failed = false;
  for (size_t at = 1; at < size && !failed; at += step) {
    dec.Feed(in.subspan(at, std::min(step, size - at)));
    for (;;) {
      auto f = dec.Next();
      if (!f) {
        failed = true;
        break;
      }
      if (!*f) break;
      if ((*f)->payload.size() > kLimit) std::abort();
      if (!ipc::wire::EncodeInto(reencoded, (*f)->header.type, (*f)->payload, (*f)->header.flags,
                                 kLimit)) {
        std::abort();
      }
    }
  }
  // Every frame the stream decoder accepted is exactly the prefix of the stream it consumed.
  if (reencoded.size() > size - 1 || (!reencoded.empty() && std::memcmp(reencoded.data(), data + 1, reencoded.size()) != 0)) {
    std::abort();
  }
  if (!failed && dec.Finish() && reencoded.size() != size - 1) std::abort();
  return 0;
}
