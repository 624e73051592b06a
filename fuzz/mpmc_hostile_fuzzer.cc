// An MPMC buffer consumer reading shared state a hostile or buggy producer wrote
// (ipc/ring/mpmc_buffer.h).
//
// The buffer lives in an anonymous shared mapping (no /dev/shm) that ends exactly at a PROT_NONE
// guard page, so a read past it faults at once even without a sanitizer. A correct buffer is
// initialised, messages the input chooses are sent and some received, then the input overwrites
// bytes of the control block (magic, version, slot count and size, head, tail) and of the slots
// (sequence numbers, lengths, checksums, bytes). It leaves the robust mutex and the condition
// variables alone: those are glibc's and the kernel's, not a format ipclab parses. Then a fresh
// attacher must refuse the buffer (EBADMSG) or receive from it: each message fits the slot and
// the buffer it was given, every failure is EBADMSG or EMSGSIZE, and a slot is delivered at most
// once (its sequence number must equal tail, which only grows), so never more than `slots`
// messages after the pokes. A send must fit as well or say "full".
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz/input_bytes.h"
#include "ipc/ring/mpmc_buffer.h"
#include "ipc/sync/robust_mutex.h"

namespace {

using ipc::ring::MpmcBuffer;

constexpr size_t kMaxBytes = 1 << 16;

// A guard page after kMaxBytes of shared memory; the buffer is placed to end at the guard.
struct GuardedArea {
  std::byte* end = nullptr;
  GuardedArea() {
    size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void* m = ::mmap(nullptr, kMaxBytes + page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    if (m == MAP_FAILED) std::abort();
    end = static_cast<std::byte*>(m) + kMaxBytes;
    if (::mprotect(end, page, PROT_NONE) != 0) std::abort();
  }
};

// The control block starts with magic, version, slots, slot_bytes; the mutex and the two
// condition variables follow from offset 64 (mpmc_buffer.cc); head, tail and recoveries after.
constexpr size_t kSyncBegin = 64;
constexpr size_t kSyncEnd = kSyncBegin + sizeof(ipc::sync::RobustMutex) + 2 * sizeof(ipc::sync::SharedCondVar);

bool Expected(int err) { return err == EBADMSG || err == EMSGSIZE; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static GuardedArea area;
  ipclab_fuzz::InputBytes in{data, size};
  uint32_t slots = 1 + in.Byte() % 8;
  static constexpr uint32_t kSlotSizes[] = {1, 8, 40, 100, 1000};
  uint32_t slot_bytes = kSlotSizes[in.Byte() % 5];
  size_t bytes = MpmcBuffer::BytesFor(slots, slot_bytes);
  if (bytes == 0 || bytes > kMaxBytes) std::abort();
  bytes = (bytes + 63) / 64 * 64;
  std::byte* start = area.end - bytes;  // 64-byte aligned: the end is page aligned
  std::memset(start, 0, bytes);
  std::span<std::byte> mem(start, bytes);
  if (!MpmcBuffer::Init(mem, slots, slot_bytes)) std::abort();

  std::vector<std::byte> msg(slot_bytes + 1), out(slot_bytes + 1);
  {  // Honest traffic first, so head and tail move past the slot count.
    auto b = MpmcBuffer::Attach(mem);
    if (!b) std::abort();
    for (int i = in.Byte() % 24; i > 0; --i) {
      size_t len = in.Byte() % (slot_bytes + 1);
      std::memset(msg.data(), i, len);
      auto sent = b->TrySend({msg.data(), len});
      if (!sent) std::abort();
      if (in.Byte() & 1) {
        auto r = b->TryReceive(out);
        if (!r) std::abort();
      }
    }
  }

  // The hostile producer: 1- or 8-byte pokes anywhere but the synchronisation words.
  for (int pokes = in.Byte() % 8; pokes > 0 && in.n > 0; --pokes) {
    size_t at = (in.Byte() | size_t{in.Byte()} << 8) % bytes;
    if (in.Byte() & 1) {
      at &= ~size_t{7};
      if (at + 8 > kSyncBegin && at < kSyncEnd) continue;
      uint64_t v = in.U64();
      std::memcpy(start + at, &v, 8);
    } else {
      if (at >= kSyncBegin && at < kSyncEnd) continue;
      start[at] = std::byte{in.Byte()};
    }
  }

  auto b = MpmcBuffer::Attach(mem);
  if (!b) {
    if (b.error().err != EBADMSG) std::abort();
    return 0;
  }
  // Whatever the control block now says, this attacher uses what it validated.
  if (b->slots() == 0 || b->slot_bytes() == 0 ||
      MpmcBuffer::BytesFor(b->slots(), b->slot_bytes()) > bytes) {
    std::abort();
  }
  size_t out_size = in.Byte() % 2 ? b->slot_bytes() : b->slot_bytes() / 2;
  std::vector<std::byte> into(out_size);
  uint32_t delivered = 0;
  for (int i = 0; i < 64; ++i) {
    auto r = b->TryReceive(into);
    if (!r) {
      if (!Expected(r.error().err)) std::abort();
      if (r.error().err == EMSGSIZE) break;  // left in place: the next receive sees it again
      continue;
    }
    if (!*r) break;
    if (**r > out_size || **r > b->slot_bytes()) std::abort();
    if (++delivered > b->slots()) std::abort();
  }
  std::vector<std::byte> big(b->slot_bytes() + 1);
  auto s = b->TrySend({big.data(), in.Byte() % (big.size() + 1)});
  if (!s && s.error().err != EMSGSIZE) std::abort();
  return 0;
}
