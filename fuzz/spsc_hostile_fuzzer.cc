// A ring consumer reading shared state a hostile or buggy producer wrote (ipc/ring/spsc_ring.h).
//
// The ring lives in an anonymous shared mapping (no /dev/shm), placed so that it ends exactly
// at a PROT_NONE guard page and starts right after another one: a consumer read outside the ring
// faults at once even without a sanitizer. A correct ring is initialised, a producer sends
// messages the input chooses, then the input overwrites bytes of the control block (magic,
// capacity, head, tail) and of the data area (frame lengths). The consumer must then attach and
// receive only what the ring really holds, or report EBADMSG: never crash, hang or copy more
// than a frame can hold.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz/input_bytes.h"
#include "ipc/ring/spsc_ring.h"

namespace {

using Ring = ipc::ring::SpscRing<>;
using Consumer = ipc::ring::SpscConsumer<>;
using Producer = ipc::ring::SpscProducer<>;

// Three pages: guard, ring page, guard. Keep the mapping for the whole run.
struct GuardedPage {
  std::byte* page = nullptr;
  size_t page_size = 0;
  GuardedPage() {
    page_size = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void* m = ::mmap(nullptr, 3 * page_size, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    page = static_cast<std::byte*>(m) + page_size;
    if (::mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static GuardedPage guard;
  ipclab_fuzz::InputBytes in{data, size};
  uint32_t capacity = 64u << (in.Byte() % 5);  // 64 .. 1024
  size_t bytes = Ring::BytesFor(capacity);
  std::byte* start = guard.page + guard.page_size - bytes;  // 64-byte aligned: both are
  std::memset(guard.page, 0, guard.page_size);
  std::span<std::byte> mem(start, bytes);
  if (!Ring::Init(mem, capacity)) std::abort();

  // Honest traffic first, so frames may wrap around the end.
  {
    auto tx = Producer::Attach(mem, {.spin = 0, .check_peer = false});
    auto rx = Consumer::Attach(mem, {.spin = 0, .check_peer = false});
    if (!tx || !rx) std::abort();
    std::vector<std::byte> msg(capacity), out(capacity);
    for (int i = in.Byte() % 16; i > 0; --i) {
      size_t len = in.Byte() % (tx->max_message() + 1);
      std::memset(msg.data(), i, len);
      if (!tx->TrySend({msg.data(), len})) std::abort();
      if (in.Byte() & 1) (void)rx->TryReceive(out);
    }
  }  // both detach

  // The hostile producer: (offset, value) pokes anywhere in the ring, 1- or 4-byte wide.
  for (int pokes = in.Byte() % 8; pokes > 0 && in.n > 0; --pokes) {
    size_t at = (in.Byte() | in.Byte() << 8) % bytes;
    if (in.Byte() & 1) {
      uint32_t v = in.U32();
      std::memcpy(start + (at & ~size_t{3}), &v, 4);
    } else {
      start[at] = std::byte{in.Byte()};
    }
  }

  auto rx = Consumer::Attach(mem, {.spin = 0, .check_peer = false});
  if (!rx) {
    int e = rx.error().err;
    if (e != EBADMSG && e != EBUSY && e != EINVAL) std::abort();
    return 0;
  }
  // Reads until empty or an error; each message fits the buffer it was given. At most
  // capacity/8 frames can be in the ring, so more receives than that without EBADMSG is a bug.
  size_t out_size = in.Byte() % 2 ? capacity : rx->max_message() / 2;
  std::vector<std::byte> exact(out_size);
  for (uint32_t got = 0;; ++got) {
    auto r = rx->TryReceive(exact);
    if (!r) {
      int e = r.error().err;
      if (e != EBADMSG && e != EMSGSIZE) std::abort();
      break;
    }
    if (!*r) break;
    if (**r > out_size || **r > rx->max_message()) std::abort();
    if (got > capacity / 8) std::abort();
  }
  return 0;
}
