// Operation-sequence target: the input is decoded into sends and receives on a real SpscRing (one
// process, both ends attached, in an anonymous shared mapping) and on its model, a deque of
// messages bounded by the ring's byte capacity (each message takes FrameBytes(len) = 4 + len
// rounded up to 8). After every step the two must agree: whether a send fits, which message a
// receive returns, EMSGSIZE for a message that can never fit or a buffer too small.
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <deque>
#include <span>
#include <vector>

#include "ipc/ring/spsc_ring.h"

namespace {

using Ring = ipc::ring::SpscRing<>;

struct Model {
  uint32_t capacity = 0;
  uint32_t used = 0;
  std::deque<std::vector<std::byte>> messages;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t capacity = 64u << (data[0] % 3);  // 64, 128, 256: wrap-around within a few steps
  size_t bytes = Ring::BytesFor(capacity);
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) std::abort();
  std::span<std::byte> mem(static_cast<std::byte*>(m), bytes);
  if (!Ring::Init(mem, capacity)) std::abort();
  {
    auto tx = ipc::ring::SpscProducer<>::Attach(mem, {.spin = 0, .check_peer = false});
    auto rx = ipc::ring::SpscConsumer<>::Attach(mem, {.spin = 0, .check_peer = false});
    if (!tx || !rx) std::abort();
    Model model;
    model.capacity = capacity;
    uint8_t fill = 0;
    for (size_t i = 1; i < size; ++i) {
      uint8_t op = data[i];
      if (op & 0x80) {  // send of (op & 0x7f) * 2 bytes: up to 254, beyond max_message of small rings
        size_t len = size_t(op & 0x7f) * 2;
        std::vector<std::byte> msg(len);
        for (auto& b : msg) b = std::byte{++fill};
        auto r = tx->TrySend(msg);
        uint32_t need = (4 + uint32_t(len) + 7) & ~7u;
        if (len > capacity - 8) {
          if (r || r.error().err != EMSGSIZE) std::abort();
        } else if (!r) {
          std::abort();
        } else if (*r != (capacity - model.used >= need)) {
          std::abort();
        } else if (*r) {
          model.used += need;
          model.messages.push_back(std::move(msg));
        }
      } else {  // receive into a buffer of (op & 0x7f) * 2 bytes, or a big one when op == 0
        size_t out_size = op == 0 ? capacity : size_t(op) * 2;
        std::vector<std::byte> out(out_size);
        auto r = rx->TryReceive(out);
        if (model.messages.empty()) {
          if (!r || *r) std::abort();
          continue;
        }
        const auto& want = model.messages.front();
        if (want.size() > out_size) {
          if (r || r.error().err != EMSGSIZE) std::abort();
          continue;
        }
        bool same = r && *r && **r == want.size() &&
                    std::equal(want.begin(), want.end(), out.begin());
        if (!same) {
          std::abort();
        }
        model.used -= (4 + uint32_t(want.size()) + 7) & ~7u;
        model.messages.pop_front();
      }
    }
  }
  ::munmap(m, bytes);
  return 0;
}
