// ipc/ring/spsc_ring.h: a lock-free single-producer/single-consumer ring between processes.
//
// The ring lives in memory both processes map (normally a segment's payload, ipc/shm). One
// process calls SpscRing<>::Init on it; then one producer and one consumer Attach (each role is
// claimed by one live process at a time; a dead holder's claim is taken over).
//
//   auto seg = shm::Segment::CreatePosix("ring", SpscRing<>::BytesFor(1 << 16),
//                                        {.layout = kSpscLayout});
//   SpscRing<>::Init(seg->payload(), 1 << 16);
//   // producer process                       // consumer process
//   auto tx = SpscProducer<>::Attach(mem);     auto rx = SpscConsumer<>::Attach(mem);
//   tx->Send(bytes);                            size_t n = *rx->Receive(buffer);
//
// Layout (all offsets from the start of the ring memory, which must be 64-byte aligned):
//   line 0  magic, version, capacity, max_message, producer pid, consumer pid (set once)
//   line 1  head: bytes ever written (mod 2^32), stored only by the producer
//   line 2  tail: bytes ever read (mod 2^32), stored only by the consumer
//   line 3  sleep flags (written only around a futex sleep)
//   then    capacity data bytes (a power of two)
// Producer and consumer indices are on separate cache lines, so the two sides do not fight over
// one line except to publish. Each side also keeps a private copy of the other's index and only
// re-reads the shared one when its copy says the ring is full (or empty).
//
// Messages are framed: a 4-byte length, the bytes, padding to 8. A frame may wrap around the end.
// Memory order: the producer writes the frame, then stores head with release; the consumer loads
// head with acquire, reads the frame, then stores tail with release; the producer loads tail with
// acquire before it reuses those bytes.
//
// Blocking: a wait spins `spin` times (cheap when the peer answers within a few microseconds),
// then sleeps on a futex on the shared index (a Dekker handshake with the sleep flag and seq_cst
// fences makes a lost wakeup impossible; the waker clears the flag, so a sleep costs one wake). While asleep it wakes every 100 ms to check that the
// peer process still lives: a dead or detached peer gives EPIPE instead of a hang.
//
// Hostile memory: Attach validates line 0, and the consumer checks every index and frame length
// it reads against its private copy of the capacity, so a corrupt ring gives EBADMSG, never an
// access outside the ring.
//
// Crashes: a producer killed mid-write has not published the frame (head unchanged): that one
// message is lost, every message whose Send returned is delivered. A consumer killed mid-read has
// not advanced tail: the message is read again by the next consumer (at-least-once for that one).
//
// The atomic type is a template parameter so the lab can instantiate the same algorithm with
// its instrumented atomics (`lab::Atomic`); it needs std::atomic's load/store/compare_exchange
// interface (exchange too), and for blocking (futex) waits a 4-byte object whose representation is the value.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <string>

#include <unistd.h>

#include "ipc/chaos/chaos.h"
#include "ipc/shm/header.h"
#include "ipc/sync/futex.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::ring {
IPCLAB_CHAOS_NAMESPACE_BEGIN

using sync::FutexWait;
using sync::FutexWake;
using sync::ProcessAlive;

inline constexpr std::uint32_t kSpscLayout = shm::LayoutTag("SPSC");
inline constexpr std::uint32_t kSpscMagic = shm::LayoutTag("spsc");
inline constexpr std::uint32_t kSpscVersion = 1;
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint32_t kSpinForever = UINT32_MAX;
// A role's pid slot: 0 = never attached (waits wait for it), kDetached = its holder detached
// (like a pipe with no writer: the peer gets EPIPE once the ring drains), else the holder's pid.
inline constexpr std::int32_t kDetached = -1;

struct SpscOptions {
  // Polls of the shared index (each with a pause instruction, ~40 ns on current x86) before a
  // wait sleeps; kSpinForever never sleeps (lowest latency, burns a core); 0 sleeps at once. The
  // default spins for a few microseconds: long enough to catch a peer that is answering, short
  // enough not to steal a shared core from it.
  std::uint32_t spin = 256;
  // Blocking waits give up with EPIPE when the peer process has died and nothing is pending.
  bool check_peer = true;
};

namespace internal {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

template <template <class> class AtomicT>
struct SpscControl {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t capacity;
  std::uint32_t max_message;
  AtomicT<std::int32_t> producer_pid;
  AtomicT<std::int32_t> consumer_pid;
  alignas(kCacheLine) AtomicT<std::uint32_t> head;
  alignas(kCacheLine) AtomicT<std::uint32_t> tail;
  alignas(kCacheLine) AtomicT<std::uint32_t> consumer_sleeping;
  AtomicT<std::uint32_t> producer_sleeping;
};

constexpr std::uint32_t FrameBytes(std::uint32_t len) { return (4 + len + 7) & ~7u; }

// What both ends share: the validated view of the ring memory.
template <template <class> class AtomicT>
class SpscEnd {
 protected:
  using Control = SpscControl<AtomicT>;
  static constexpr std::size_t kDataOffset = (sizeof(Control) + kCacheLine - 1) / kCacheLine * kCacheLine;

  static sys::Result<Control*> Validate(std::span<std::byte> memory, std::uint32_t& capacity,
                                        std::uint32_t& max_message) {
    constexpr std::string_view kCall = "spsc.attach";
    if (reinterpret_cast<std::uintptr_t>(memory.data()) % kCacheLine != 0) {
      return sys::Fail(kCall, "spsc ring", EINVAL, "ring memory is not 64-byte aligned");
    }
    if (memory.size() < kDataOffset) {
      return sys::Fail(kCall, "spsc ring", EBADMSG,
                       std::string("ring memory of ") + std::to_string(memory.size()) +
                           " bytes is smaller than its control block");
    }
    auto* c = reinterpret_cast<Control*>(memory.data());
    if (c->magic != kSpscMagic || c->version != kSpscVersion) {
      return sys::Fail(kCall, "spsc ring", EBADMSG, "not an SPSC ring (magic/version)");
    }
    std::uint32_t cap = c->capacity;
    if (cap < 64 || (cap & (cap - 1)) != 0 || cap > (1u << 30) ||
        kDataOffset + cap > memory.size() || c->max_message != cap - 8) {
      return sys::Fail(kCall, "spsc ring", EBADMSG,
                       "capacity " + std::to_string(cap) + " / max message " +
                           std::to_string(c->max_message) + " do not fit " +
                           std::to_string(memory.size()) + " bytes of ring memory");
    }
    std::uint32_t used = c->head.load(std::memory_order_acquire) - c->tail.load(std::memory_order_acquire);
    if (used > cap || used % 8 != 0) {
      return sys::Fail(kCall, "spsc ring", EBADMSG, "head and tail are inconsistent");
    }
    capacity = cap;
    max_message = cap - 8;
    return c;
  }

  static sys::Status Claim(AtomicT<std::int32_t>& slot, std::string_view role) {
    std::int32_t me = ::getpid();
    std::int32_t cur = slot.load(std::memory_order_acquire);
    for (;;) {
      if (cur == me) return {};
      if (cur != 0 && ProcessAlive(cur)) {
        return sys::Fail("spsc.attach", "spsc ring", EBUSY,
                         std::string(role) + " role is held by live pid " + std::to_string(cur));
      }
      if (slot.compare_exchange_weak(cur, me, std::memory_order_acq_rel)) return {};
    }
  }

  std::byte* data() const { return reinterpret_cast<std::byte*>(c_) + kDataOffset; }

  Control* c_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t max_message_ = 0;
  SpscOptions options_;
};

}  // namespace internal

template <template <class> class AtomicT = std::atomic>
class SpscRing {
 public:
  // Bytes of ring memory for `capacity` data bytes (a power of two, 64 .. 2^30).
  static constexpr std::size_t BytesFor(std::uint32_t capacity) {
    return (sizeof(internal::SpscControl<AtomicT>) + kCacheLine - 1) / kCacheLine * kCacheLine +
           capacity;
  }
  // The largest message a ring of `capacity` carries.
  static constexpr std::uint32_t MaxMessage(std::uint32_t capacity) { return capacity - 8; }

  // Initialises the ring in `memory` (64-byte aligned, at least BytesFor(capacity)), before any
  // producer or consumer attaches.
  static sys::Status Init(std::span<std::byte> memory, std::uint32_t capacity) {
    if (capacity < 64 || (capacity & (capacity - 1)) != 0 || capacity > (1u << 30)) {
      return sys::Fail("spsc.init", "spsc ring", EINVAL, "capacity must be a power of two in [64, 2^30]");
    }
    if (memory.size() < BytesFor(capacity) ||
        reinterpret_cast<std::uintptr_t>(memory.data()) % kCacheLine != 0) {
      return sys::Fail("spsc.init", "spsc ring", EINVAL, "memory too small or not 64-byte aligned");
    }
    auto* c = new (memory.data()) internal::SpscControl<AtomicT>;
    c->version = kSpscVersion;
    c->capacity = capacity;
    c->max_message = capacity - 8;
    c->producer_pid.store(0, std::memory_order_relaxed);
    c->consumer_pid.store(0, std::memory_order_relaxed);
    c->head.store(0, std::memory_order_relaxed);
    c->tail.store(0, std::memory_order_relaxed);
    c->consumer_sleeping.store(0, std::memory_order_relaxed);
    c->producer_sleeping.store(0, std::memory_order_relaxed);
    std::atomic_ref<std::uint32_t>(c->magic).store(kSpscMagic, std::memory_order_release);
    return {};
  }
};

template <template <class> class AtomicT = std::atomic>
class SpscProducer : public internal::SpscEnd<AtomicT> {
  using Base = internal::SpscEnd<AtomicT>;

 public:
  static sys::Result<SpscProducer> Attach(std::span<std::byte> memory, SpscOptions options = {}) {
    SpscProducer p;
    auto c = Base::Validate(memory, p.capacity_, p.max_message_);
    if (!c) return std::unexpected(c.error());
    if (auto s = Base::Claim((*c)->producer_pid, "producer"); !s) return std::unexpected(s.error());
    p.c_ = *c;
    p.options_ = options;
    p.head_ = p.c_->head.load(std::memory_order_relaxed);
    p.cached_tail_ = p.c_->tail.load(std::memory_order_acquire);
    return p;
  }
  SpscProducer(SpscProducer&& o) noexcept { *this = std::move(o); }
  SpscProducer& operator=(SpscProducer&& o) noexcept {
    std::swap(static_cast<Base&>(*this), static_cast<Base&>(o));
    std::swap(head_, o.head_);
    std::swap(cached_tail_, o.cached_tail_);
    return *this;
  }
  ~SpscProducer() {
    if (this->c_) {
      std::int32_t me = ::getpid();
      this->c_->producer_pid.compare_exchange_strong(me, kDetached, std::memory_order_acq_rel);
    }
  }

  std::uint32_t max_message() const { return this->max_message_; }

  // Appends one message if it fits now: true; false if the ring is too full. EMSGSIZE if it can
  // never fit.
  sys::Result<bool> TrySend(std::span<const std::byte> msg) {
    if (msg.size() > this->max_message_) {
      return sys::Fail("spsc.send", "spsc ring", EMSGSIZE,
                       std::to_string(msg.size()) + " bytes > max message " +
                           std::to_string(this->max_message_));
    }
    auto len = static_cast<std::uint32_t>(msg.size());
    std::uint32_t need = internal::FrameBytes(len);
    if (this->capacity_ - (head_ - cached_tail_) < need) {
      cached_tail_ = this->c_->tail.load(std::memory_order_acquire);
      if (this->capacity_ - (head_ - cached_tail_) < need) return false;
    }
    std::uint32_t off = head_ & (this->capacity_ - 1);
    std::memcpy(this->data() + off, &len, 4);  // never wraps: off and capacity are multiples of 8
    CopyIn(off + 4, msg.data(), len);
    // After the write, before the commit: a producer killed here loses only this message.
    IPCLAB_CRASH_POINT("ring.spsc.before_commit");
    head_ += need;
    this->c_->head.store(head_, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // One wake per sleep: the first publish after the consumer went to sleep clears its flag and
    // wakes it; the publishes until it runs again cost no system call.
    if (this->c_->consumer_sleeping.load(std::memory_order_relaxed) &&
        this->c_->consumer_sleeping.exchange(0, std::memory_order_relaxed)) {
      (void)FutexWake(&this->c_->head, INT_MAX, "ring index");
    }
    return true;
  }

  // Appends, waiting for room: spins, then sleeps; ETIMEDOUT at the deadline, EPIPE when the
  // consumer died.
  sys::Status SendUntil(std::span<const std::byte> msg, sys::Deadline deadline) {
    for (std::uint32_t spins = 0;; ++spins) {
      auto r = TrySend(msg);
      if (!r) return std::unexpected(r.error());
      if (*r) return {};
      if (spins < this->options_.spin) {
        internal::CpuRelax();
        if ((spins & 0xffff) == 0xffff) {
          if (deadline.expired()) return sys::Fail("spsc.send", "spsc ring", ETIMEDOUT);
          if (auto s = PeerCheck(); !s) return s;
        }
        continue;
      }
      std::uint32_t seen = this->c_->tail.load(std::memory_order_acquire);
      this->c_->producer_sleeping.store(1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      sys::Status slept;
      if (this->c_->tail.load(std::memory_order_relaxed) == seen) {
        slept = FutexWait(&this->c_->tail, seen, Slice(deadline), "ring index");
      }
      this->c_->producer_sleeping.store(0, std::memory_order_relaxed);
      if (!slept && slept.error().err != ETIMEDOUT) return slept;
      if (deadline.expired()) {
        auto last = TrySend(msg);
        if (last && *last) return {};
        return sys::Fail("spsc.send", "spsc ring", ETIMEDOUT, "ring full");
      }
      if (auto s = PeerCheck(); !s) return s;
    }
  }
  sys::Status Send(std::span<const std::byte> msg) { return SendUntil(msg, sys::Deadline::Never()); }
  template <class Rep, class Period>
  sys::Status SendFor(std::span<const std::byte> msg, std::chrono::duration<Rep, Period> d) {
    return SendUntil(msg, sys::Deadline::After(d));
  }

 private:
  SpscProducer() = default;
  void CopyIn(std::uint32_t off, const std::byte* src, std::uint32_t n) {
    if (n == 0) return;  // an empty span may have a null data() (memcpy's nonnull contract)
    std::uint32_t mask = this->capacity_ - 1;
    off &= mask;
    std::uint32_t first = std::min(n, this->capacity_ - off);
    std::memcpy(this->data() + off, src, first);
    std::memcpy(this->data(), src + first, n - first);
  }
  static sys::Deadline Slice(sys::Deadline deadline) {
    auto slice = std::chrono::milliseconds(100);
    return deadline.remaining() < slice ? deadline : sys::Deadline::After(slice);
  }
  sys::Status PeerCheck() {
    if (!this->options_.check_peer) return {};
    std::int32_t peer = this->c_->consumer_pid.load(std::memory_order_acquire);
    if (peer != 0 && !ProcessAlive(peer)) {
      return sys::Fail("spsc.send", "spsc ring", EPIPE,
                       (peer == kDetached ? std::string("the consumer detached")
                                          : "consumer pid " + std::to_string(peer) + " is gone") +
                           " and the ring is full");
    }
    return {};
  }
  std::uint32_t head_ = 0;
  std::uint32_t cached_tail_ = 0;
};

template <template <class> class AtomicT = std::atomic>
class SpscConsumer : public internal::SpscEnd<AtomicT> {
  using Base = internal::SpscEnd<AtomicT>;

 public:
  static sys::Result<SpscConsumer> Attach(std::span<std::byte> memory, SpscOptions options = {}) {
    SpscConsumer p;
    auto c = Base::Validate(memory, p.capacity_, p.max_message_);
    if (!c) return std::unexpected(c.error());
    if (auto s = Base::Claim((*c)->consumer_pid, "consumer"); !s) return std::unexpected(s.error());
    p.c_ = *c;
    p.options_ = options;
    p.tail_ = p.c_->tail.load(std::memory_order_relaxed);
    p.cached_head_ = p.tail_;
    return p;
  }
  SpscConsumer(SpscConsumer&& o) noexcept { *this = std::move(o); }
  SpscConsumer& operator=(SpscConsumer&& o) noexcept {
    std::swap(static_cast<Base&>(*this), static_cast<Base&>(o));
    std::swap(tail_, o.tail_);
    std::swap(cached_head_, o.cached_head_);
    return *this;
  }
  ~SpscConsumer() {
    if (this->c_) {
      std::int32_t me = ::getpid();
      this->c_->consumer_pid.compare_exchange_strong(me, kDetached, std::memory_order_acq_rel);
    }
  }

  std::uint32_t max_message() const { return this->max_message_; }

  // Takes the next message into `out` if there is one: its size; std::nullopt if the ring is
  // empty. EMSGSIZE (message left in the ring) if `out` is too small; EBADMSG if the ring's
  // shared indices or the frame are corrupt.
  sys::Result<std::optional<std::size_t>> TryReceive(std::span<std::byte> out) {
    if (cached_head_ == tail_) {
      cached_head_ = this->c_->head.load(std::memory_order_acquire);
      if (cached_head_ == tail_) return std::nullopt;
    }
    std::uint32_t avail = cached_head_ - tail_;
    if (avail > this->capacity_ || avail % 8 != 0) {
      return sys::Fail("spsc.receive", "spsc ring", EBADMSG,
                       "head is " + std::to_string(avail) + " bytes ahead of tail (capacity " +
                           std::to_string(this->capacity_) + ")");
    }
    std::uint32_t off = tail_ & (this->capacity_ - 1);
    std::uint32_t len = 0;
    std::memcpy(&len, this->data() + off, 4);
    if (len > this->max_message_ || internal::FrameBytes(len) > avail) {
      return sys::Fail("spsc.receive", "spsc ring", EBADMSG,
                       "frame length " + std::to_string(len) + " exceeds the " +
                           std::to_string(avail) + " bytes published");
    }
    if (len > out.size()) {
      return sys::Fail("spsc.receive", "spsc ring", EMSGSIZE,
                       "message of " + std::to_string(len) + " bytes, buffer of " +
                           std::to_string(out.size()));
    }
    CopyOut(off + 4, out.data(), len);
    // Read but not released: a consumer killed here leaves the frame for the next one.
    IPCLAB_CRASH_POINT("ring.spsc.before_release");
    tail_ += internal::FrameBytes(len);
    this->c_->tail.store(tail_, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (this->c_->producer_sleeping.load(std::memory_order_relaxed) &&
        this->c_->producer_sleeping.exchange(0, std::memory_order_relaxed)) {
      (void)FutexWake(&this->c_->tail, INT_MAX, "ring index");
    }
    return std::optional<std::size_t>(len);
  }

  // Takes the next message, waiting for one: spins, then sleeps; ETIMEDOUT at the deadline,
  // EPIPE when the producer died and nothing is left.
  sys::Result<std::size_t> ReceiveUntil(std::span<std::byte> out, sys::Deadline deadline) {
    for (std::uint32_t spins = 0;; ++spins) {
      auto r = TryReceive(out);
      if (!r) return std::unexpected(r.error());
      if (*r) return **r;
      if (spins < this->options_.spin) {
        internal::CpuRelax();
        if ((spins & 0xffff) == 0xffff) {
          if (deadline.expired()) return sys::Fail("spsc.receive", "spsc ring", ETIMEDOUT);
          if (auto s = PeerCheck(); !s) return std::unexpected(s.error());
        }
        continue;
      }
      std::uint32_t seen = tail_;  // empty: head == our tail
      this->c_->consumer_sleeping.store(1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      sys::Status slept;
      if (this->c_->head.load(std::memory_order_relaxed) == seen) {
        slept = FutexWait(&this->c_->head, seen, Slice(deadline), "ring index");
      }
      this->c_->consumer_sleeping.store(0, std::memory_order_relaxed);
      if (!slept && slept.error().err != ETIMEDOUT) return std::unexpected(slept.error());
      if (deadline.expired()) {
        auto last = TryReceive(out);
        if (!last) return std::unexpected(last.error());
        if (*last) return **last;
        return sys::Fail("spsc.receive", "spsc ring", ETIMEDOUT, "ring empty");
      }
      if (auto s = PeerCheck(); !s) return std::unexpected(s.error());
    }
  }
  sys::Result<std::size_t> Receive(std::span<std::byte> out) {
    return ReceiveUntil(out, sys::Deadline::Never());
  }
  template <class Rep, class Period>
  sys::Result<std::size_t> ReceiveFor(std::span<std::byte> out, std::chrono::duration<Rep, Period> d) {
    return ReceiveUntil(out, sys::Deadline::After(d));
  }

 private:
  SpscConsumer() = default;
  void CopyOut(std::uint32_t off, std::byte* dst, std::uint32_t n) {
    if (n == 0) return;
    std::uint32_t mask = this->capacity_ - 1;
    off &= mask;
    std::uint32_t first = std::min(n, this->capacity_ - off);
    std::memcpy(dst, this->data() + off, first);
    std::memcpy(dst + first, this->data(), n - first);
  }
  static sys::Deadline Slice(sys::Deadline deadline) {
    auto slice = std::chrono::milliseconds(100);
    return deadline.remaining() < slice ? deadline : sys::Deadline::After(slice);
  }
  sys::Status PeerCheck() {
    if (!this->options_.check_peer) return {};
    std::int32_t peer = this->c_->producer_pid.load(std::memory_order_acquire);
    if (peer != 0 && !ProcessAlive(peer) &&
        this->c_->head.load(std::memory_order_acquire) == tail_) {
      return sys::Fail("spsc.receive", "spsc ring", EPIPE,
                       (peer == kDetached ? std::string("the producer detached")
                                          : "producer pid " + std::to_string(peer) + " is gone") +
                           " and the ring is empty");
    }
    return {};
  }
  std::uint32_t tail_ = 0;
  std::uint32_t cached_head_ = 0;
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::ring
