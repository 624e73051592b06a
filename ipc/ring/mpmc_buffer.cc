#include "ipc/ring/mpmc_buffer.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <string>

#include <fmt/format.h>

namespace ipc::ring {
IPCLAB_CHAOS_NAMESPACE_BEGIN
namespace {

constexpr std::uint32_t kMagic = shm::LayoutTag("mpmc");
constexpr std::uint32_t kVersion = 2;  // 2: futex-based SharedCondVar (4 bytes)
constexpr std::uint32_t kMaxSlots = 1u << 20;
constexpr std::uint32_t kMaxSlotBytes = 1u << 24;
constexpr auto kWaitSlice = std::chrono::milliseconds(50);

struct SlotHeader {
  std::uint64_t seq;       // the message number (head value) it was written for
  std::uint32_t len;
  std::uint32_t reserved;
  std::uint64_t checksum;  // FNV-1a 64 of the bytes
};

constexpr std::size_t Align64(std::size_t n) { return (n + 63) / 64 * 64; }
constexpr std::size_t SlotStride(std::uint32_t slot_bytes) {
  return Align64(sizeof(SlotHeader) + slot_bytes);
}

std::uint64_t Fnv(const std::byte* p, std::size_t n) {
  std::uint64_t x = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= static_cast<unsigned char>(p[i]);
    x *= 0x100000001b3ull;
  }
  return x;
}

sys::Result<std::size_t> Bytes(std::uint32_t slots, std::uint32_t slot_bytes);

}  // namespace

struct MpmcBuffer::Control {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t slots;
  std::uint32_t slot_bytes;
  alignas(64) sync::RobustMutex mutex;
  sync::SharedCondVar not_empty;
  sync::SharedCondVar not_full;
  std::uint64_t head IPC_GUARDED_BY(mutex);  // messages ever committed
  std::uint64_t tail IPC_GUARDED_BY(mutex);  // messages ever received
  std::uint64_t recoveries IPC_GUARDED_BY(mutex);
};

namespace {

constexpr std::size_t ControlBytes() { return Align64(sizeof(MpmcBuffer::Control)); }

sys::Result<std::size_t> Bytes(std::uint32_t slots, std::uint32_t slot_bytes) {
  if (slots == 0 || slots > kMaxSlots || slot_bytes == 0 || slot_bytes > kMaxSlotBytes) {
    return sys::Fail("mpmc", "mpmc buffer", EINVAL,
                     fmt::format("{} slots of {} bytes: need 1..{} slots of 1..{} bytes", slots,
                                 slot_bytes, kMaxSlots, kMaxSlotBytes));
  }
  return ControlBytes() + std::size_t{slots} * SlotStride(slot_bytes);
}

// Holds the buffer's mutex for one operation; repairs after a dead owner. The analysis sees a
// scoped capability; `ok()` says whether the lock was really taken.
class IPC_SCOPED_CAPABILITY Guard {
 public:
  Guard(MpmcBuffer::Control& c, sys::Deadline deadline) IPC_ACQUIRE(c.mutex)
      IPC_NO_THREAD_SAFETY_ANALYSIS : c_(c) {
    sync::LockOutcome out;
    held_ = c_.mutex.LockUntil(deadline, out);
    if (!held_) {
      error_ = *out.error;
      return;
    }
    if (out.owner_died) Repair();
  }
  ~Guard() IPC_RELEASE() IPC_NO_THREAD_SAFETY_ANALYSIS {
    if (held_) c_.mutex.Unlock();
  }
  bool ok() const { return held_ && !error_; }
  const sys::SysError& error() const { return *error_; }

  // One bounded slice of waiting on `cv`; the caller re-checks its predicate and deadline.
  sys::Status Wait(sync::SharedCondVar& cv, sys::Deadline deadline) IPC_NO_THREAD_SAFETY_ANALYSIS {
    auto slice = std::min<sys::Deadline::Clock::duration>(deadline.remaining(), kWaitSlice);
    sync::LockOutcome out;
    if (!cv.WaitUntil(c_.mutex, sys::Deadline::After(slice), out)) {
      if (out.error->err == ENOTRECOVERABLE) held_ = false;
      if (out.error->err != ETIMEDOUT) return std::unexpected(*out.error);
    }
    if (out.owner_died) {
      Repair();
      if (error_) return std::unexpected(*error_);
    }
    return {};
  }

 private:
  void Repair() IPC_NO_THREAD_SAFETY_ANALYSIS {
    // Every critical section writes one index, last; so after a death the indices are those
    // before or after one whole operation. Anything else is corruption.
    std::uint64_t slots = c_.slots;
    if (c_.tail > c_.head || c_.head - c_.tail > slots) {
      error_ = sys::Error("mpmc.repair", "mpmc buffer", EBADMSG,
                          fmt::format("head {} tail {} slots {}: indices corrupt", c_.head,
                                      c_.tail, slots));
    }
    ++c_.recoveries;
    (void)c_.mutex.MarkConsistent();
    // Whoever was woken for the dead process's work must not wait for it.
    c_.not_empty.NotifyAll();
    c_.not_full.NotifyAll();
  }

  MpmcBuffer::Control& c_;
  bool held_ = false;
  std::optional<sys::SysError> error_;
};

}  // namespace

std::size_t MpmcBuffer::BytesFor(std::uint32_t slots, std::uint32_t slot_bytes) {
  auto b = Bytes(slots, slot_bytes);
  return b ? *b : 0;
}

sys::Status MpmcBuffer::Init(std::span<std::byte> memory, std::uint32_t slots,
                             std::uint32_t slot_bytes) {
  auto need = Bytes(slots, slot_bytes);
  if (!need) return std::unexpected(need.error());
  if (memory.size() < *need || reinterpret_cast<std::uintptr_t>(memory.data()) % 64 != 0) {
    return sys::Fail("mpmc.init", "mpmc buffer", EINVAL,
                     fmt::format("need {} bytes, 64-byte aligned; got {}", *need, memory.size()));
  }
  auto* c = new (memory.data()) Control;
  c->version = kVersion;
  c->slots = slots;
  c->slot_bytes = slot_bytes;
  if (auto s = c->mutex.Init(); !s) return s;
  if (auto s = c->not_empty.Init(); !s) return s;
  if (auto s = c->not_full.Init(); !s) return s;
  {
    sync::RobustLock lock(c->mutex);
    c->head = 0;
    c->tail = 0;
    c->recoveries = 0;
  }
  std::memset(memory.data() + ControlBytes(), 0, *need - ControlBytes());
  std::atomic_ref<std::uint32_t>(c->magic).store(kMagic, std::memory_order_release);
  return {};
}

sys::Result<MpmcBuffer> MpmcBuffer::Attach(std::span<std::byte> memory) {
  if (reinterpret_cast<std::uintptr_t>(memory.data()) % 64 != 0 || memory.size() < ControlBytes()) {
    return sys::Fail("mpmc.attach", "mpmc buffer", EBADMSG,
                     fmt::format("{} bytes: smaller than the control block or unaligned",
                                 memory.size()));
  }
  auto* c = reinterpret_cast<Control*>(memory.data());
  std::uint32_t magic = std::atomic_ref<std::uint32_t>(c->magic).load(std::memory_order_acquire);
  if (magic != kMagic || c->version != kVersion) {
    return sys::Fail("mpmc.attach", "mpmc buffer", EBADMSG, "not an MPMC buffer (magic/version)");
  }
  std::uint32_t slots = c->slots, slot_bytes = c->slot_bytes;
  auto need = Bytes(slots, slot_bytes);
  if (!need) return sys::Fail("mpmc.attach", "mpmc buffer", EBADMSG, need.error().detail);
  if (*need > memory.size()) {
    return sys::Fail("mpmc.attach", "mpmc buffer", EBADMSG,
                     fmt::format("{} slots of {} bytes need {} bytes, have {}", slots, slot_bytes,
                                 *need, memory.size()));
  }
  return MpmcBuffer(c, slots, slot_bytes);
}

std::byte* MpmcBuffer::SlotAt(std::uint64_t index) const {
  return reinterpret_cast<std::byte*>(c_) + ControlBytes() + (index % slots_) * SlotStride(slot_bytes_);
}

sys::Status MpmcBuffer::SendUntil(std::span<const std::byte> msg, sys::Deadline deadline) {
  if (msg.size() > slot_bytes_) {
    return sys::Fail("mpmc.send", "mpmc buffer", EMSGSIZE,
                     fmt::format("{} bytes > slot size {}", msg.size(), slot_bytes_));
  }
  Guard g(*c_, deadline);
  if (!g.ok()) return std::unexpected(g.error());
  while (c_->head - c_->tail >= slots_) {
    if (deadline.expired()) return sys::Fail("mpmc.send", "mpmc buffer", ETIMEDOUT, "buffer full");
    if (auto s = g.Wait(c_->not_full, deadline); !s) return s;
  }
  std::uint64_t seq = c_->head;
  std::byte* slot = SlotAt(seq);
  std::byte* bytes = slot + sizeof(SlotHeader);
  if (testing_.kill_after_bytes && *testing_.kill_after_bytes < msg.size()) {
    std::memcpy(bytes, msg.data(), *testing_.kill_after_bytes);
    ::raise(SIGKILL);
  }
  if (!msg.empty()) std::memcpy(bytes, msg.data(), msg.size());  // (data() may be null)
  IPCLAB_CHAOS_POINT("ring.mpmc.after_payload");
  SlotHeader h{seq, static_cast<std::uint32_t>(msg.size()), 0, Fnv(msg.data(), msg.size())};
  std::memcpy(slot, &h, sizeof h);
  // After the write, before the commit, holding the robust mutex: the next owner repairs.
  IPCLAB_CRASH_POINT("ring.mpmc.before_commit");
  c_->head = seq + 1;  // the commit
  c_->not_empty.NotifyOne();
  return {};
}

sys::Result<bool> MpmcBuffer::TrySend(std::span<const std::byte> msg) {
  auto s = SendUntil(msg, sys::Deadline::After(std::chrono::nanoseconds(0)));
  if (s) return true;
  if (s.error().err == ETIMEDOUT) return false;
  return std::unexpected(s.error());
}

sys::Result<std::size_t> MpmcBuffer::ReceiveUntil(std::span<std::byte> out, sys::Deadline deadline) {
  Guard g(*c_, deadline);
  if (!g.ok()) return std::unexpected(g.error());
  while (c_->head == c_->tail) {
    if (deadline.expired()) return sys::Fail("mpmc.receive", "mpmc buffer", ETIMEDOUT, "buffer empty");
    if (auto s = g.Wait(c_->not_empty, deadline); !s) return std::unexpected(s.error());
  }
  std::uint64_t seq = c_->tail;
  const std::byte* slot = SlotAt(seq);
  SlotHeader h;
  std::memcpy(&h, slot, sizeof h);
  const std::byte* bytes = slot + sizeof(SlotHeader);
  if (h.seq != seq || h.len > slot_bytes_ || Fnv(bytes, h.len) != h.checksum) {
    c_->tail = seq + 1;  // skip it, so one bad slot does not wedge every consumer
    c_->not_full.NotifyOne();
    return sys::Fail("mpmc.receive", "mpmc buffer", EBADMSG,
                     fmt::format("slot for message {} holds seq {}, length {} (slot size {}) or a "
                                 "bad checksum: skipped",
                                 seq, h.seq, h.len, slot_bytes_));
  }
  if (h.len > out.size()) {
    return sys::Fail("mpmc.receive", "mpmc buffer", EMSGSIZE,
                     fmt::format("message of {} bytes, buffer of {}", h.len, out.size()));
  }
  if (h.len > 0) std::memcpy(out.data(), bytes, h.len);
  IPCLAB_CRASH_POINT("ring.mpmc.before_release");
  c_->tail = seq + 1;
  c_->not_full.NotifyOne();
  return std::size_t{h.len};
}

sys::Result<std::optional<std::size_t>> MpmcBuffer::TryReceive(std::span<std::byte> out) {
  auto r = ReceiveUntil(out, sys::Deadline::After(std::chrono::nanoseconds(0)));
  if (r) return std::optional<std::size_t>(*r);
  if (r.error().err == ETIMEDOUT) return std::optional<std::size_t>();
  return std::unexpected(r.error());
}

sys::Result<std::uint64_t> MpmcBuffer::Size() {
  Guard g(*c_, sys::Deadline::Never());
  if (!g.ok()) return std::unexpected(g.error());
  return c_->head - c_->tail;
}

sys::Result<std::uint64_t> MpmcBuffer::Recoveries() {
  Guard g(*c_, sys::Deadline::Never());
  if (!g.ok()) return std::unexpected(g.error());
  return c_->recoveries;
}

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::ring
