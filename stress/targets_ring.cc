// Ring targets: ipc/ring's SPSC ring and MPMC buffer under crashes and storms, and a minimal ring
// that publishes its index before it writes the slot (the planted "no commit marker" bug) with
// its correct twin.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "ipc/ring/mpmc_buffer.h"
#include "ipc/ring/spsc_ring.h"
#include "ipc/shm/segment.h"
#include "stress/chaos_point.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A test message: seq, producer, checksum of (seq, producer, payload), then the payload.
struct MessageHead {
  std::uint64_t seq;
  std::uint64_t producer;
  std::uint64_t sum;
};

std::size_t MakeMessage(std::mt19937_64& rng, std::uint64_t producer, std::uint64_t seq,
                        std::vector<std::byte>& out, std::size_t max_payload) {
  std::size_t n = rng() % (max_payload + 1);
  out.resize(sizeof(MessageHead) + n);
  for (std::size_t i = 0; i < n; ++i) out[sizeof(MessageHead) + i] = static_cast<std::byte>(rng());
  MessageHead h{seq, producer, 0};
  std::memcpy(out.data(), &h, sizeof h);
  h.sum = Checksum(out.data(), out.size());
  std::memcpy(out.data(), &h, sizeof h);
  return out.size();
}

// Validates a received message; fills `head`. Empty string when intact.
std::string CheckMessage(std::span<const std::byte> m, MessageHead& head) {
  if (m.size() < sizeof head) return fmt::format("short message of {} bytes", m.size());
  std::vector<std::byte> copy(m.begin(), m.end());
  std::memcpy(&head, copy.data(), sizeof head);
  std::uint64_t sum = head.sum;
  MessageHead zeroed = head;
  zeroed.sum = 0;
  std::memcpy(copy.data(), &zeroed, sizeof zeroed);
  if (Checksum(copy.data(), copy.size()) != sum) {
    return fmt::format("checksum mismatch on message seq {} of producer {}", head.seq, head.producer);
  }
  return {};
}

// --- SPSC ring ------------------------------------------------------------------------------

struct SpscState {
  std::atomic<std::uint64_t> pending;   // last seq the producer started to send
  std::atomic<std::uint64_t> last;      // last seq the consumer recorded
  std::atomic<std::uint64_t> lost;      // messages missing (gaps), each gap one message
  std::atomic<std::uint64_t> gap_events;
};
constexpr std::size_t kSpscStateBytes = 128;
constexpr std::uint32_t kSpscCapacity = 1 << 12;

// Records that message `seq` arrived; empty string when it keeps the invariants.
std::string RecordSeq(SpscState& st, std::uint64_t seq) {
  std::uint64_t last = st.last.load();
  if (seq <= last) return fmt::format("duplicate or reordered message: seq {} after {}", seq, last);
  if (seq > last + 1) {
    // Each crash loses at most one message (a producer's in-flight one, or one a consumer took
    // and died before recording); two crashes close together make a gap of two. The total is
    // checked against the crashes at the end.
    std::uint64_t gap = seq - last - 1;
    st.last.store(seq);  // first: a death between the two stores undercounts, never doubles
    st.lost.fetch_add(gap);
    st.gap_events.fetch_add(1);
    return {};
  }
  st.last.store(seq);
  return {};
}

// Records one received message; empty string when it keeps the invariants.
std::string RecordSpsc(SpscState& st, std::span<const std::byte> m) {
  MessageHead head;
  if (auto bad = CheckMessage(m, head); !bad.empty()) return bad;
  return RecordSeq(st, head.seq);
}

// After the run and the final drain: the gaps and the producer's last started message that never
// arrived are the messages lost; more than `may_lose` (what the target's crashes can explain,
// named by `crashes`) is a finding.
void AccountLost(Chaos& chaos, const SpscState& st, std::uint64_t may_lose, std::string_view crashes) {
  std::uint64_t pending = st.pending.load(), last = st.last.load();
  if (last > pending) {
    chaos.AddFinding("invariant-violation", fmt::format("consumer got seq {} beyond the producer's {}", last, pending));
    return;
  }
  std::uint64_t lost = st.lost.load() + (pending - last);
  std::uint64_t gap_events = st.gap_events.load() + (pending != last ? 1 : 0);
  if (lost > may_lose) {
    chaos.AddFinding("invariant-violation",
                     fmt::format("{} messages lost ({} gaps) but only {} {}", lost, gap_events, may_lose, crashes));
  }
  chaos.AddLost(lost);
}

RunReport RunSpsc(Chaos& chaos) {
  auto seg = ipc::shm::Segment::CreatePosix(
      "spsc", kSpscStateBytes + ipc::ring::SpscRing<>::BytesFor(kSpscCapacity));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* st = new (seg->payload().data()) SpscState{};
  auto ring_mem = seg->payload().subspan(kSpscStateBytes);
  (void)ipc::ring::SpscRing<>::Init(ring_mem, kSpscCapacity);

  chaos.Spawn("producer", [&](Participant& p) -> int {
    auto tx = ipc::ring::SpscProducer<>::Attach(ring_mem, {.spin = 200});
    if (!tx) return p.Fail("producer attach: " + tx.error().message());
    std::vector<std::byte> msg;
    std::uint64_t seq = st->pending.load();  // a killed incarnation's in-flight seq is skipped
    while (!p.stopping()) {
      ++seq;
      MakeMessage(p.rng(), 0, seq, msg, 300);
      st->pending.store(seq);
      IPCLAB_CRASH_POINT("spsc.before_send");
      auto t0 = Clock::now();
      for (;;) {
        auto s = tx->SendUntil(msg, ipc::sys::Deadline::After(20ms));
        if (s) break;
        if (s.error().err != ETIMEDOUT && s.error().err != EPIPE) return p.Fail("send: " + s.error().message());
        if (p.stopping()) {
          st->pending.store(seq - 1);  // never sent
          return 0;
        }
      }
      IPCLAB_CHAOS_POINT("spsc.after_send");
      p.Done(Clock::now() - t0);
    }
    return 0;
  }, {.killable = true});

  chaos.Spawn("consumer", [&](Participant& p) -> int {
    auto rx = ipc::ring::SpscConsumer<>::Attach(ring_mem, {.spin = 200});
    if (!rx) return p.Fail("consumer attach: " + rx.error().message());
    std::vector<std::byte> buf(kSpscCapacity);
    while (!p.stopping()) {
      auto t0 = Clock::now();
      auto n = rx->ReceiveUntil(buf, ipc::sys::Deadline::After(20ms));
      if (!n) {
        if (n.error().err == ETIMEDOUT || n.error().err == EPIPE) continue;
        return p.Fail("receive: " + n.error().message());
      }
      IPCLAB_CRASH_POINT("spsc.before_record");  // delivered to a consumer that dies: lost
      if (auto bad = RecordSpsc(*st, std::span(buf).first(*n)); !bad.empty()) return p.Fail(bad);
      p.Done(Clock::now() - t0);
    }
    return 0;
  }, {.killable = true});

  chaos.Run();
  // Drain what is left as the consumer, then account for every message.
  if (auto rx = ipc::ring::SpscConsumer<>::Attach(ring_mem, {.spin = 0}); rx) {
    std::vector<std::byte> buf(kSpscCapacity);
    for (;;) {
      auto n = rx->TryReceive(buf);
      if (!n) {
        chaos.AddFinding("invariant-violation", "drain: " + n.error().message());
        break;
      }
      if (!*n) break;
      if (auto bad = RecordSpsc(*st, std::span(buf).first(**n)); !bad.empty()) {
        chaos.AddFinding("invariant-violation", "drain: " + bad);
        break;
      }
    }
  } else {
    chaos.AddFinding("invariant-violation", "drain attach: " + rx.error().message());
  }
  AccountLost(chaos, *st, chaos.crashes_injected(), "crashes injected");
  (void)seg->Remove();
  return chaos.Finish();
}

// --- A minimal slot ring, with and without its commit order ------------------------------------
//
// Fixed 64-byte slots; the producer fills slot `head` and then publishes head+1 (release); the
// consumer reads the slot at `tail`, records it and then frees it by advancing tail. The planted
// bug publishes head before it fills the slot, so the index no longer marks a committed message:
// a consumer can read a slot that is still being written (or never will be, when the producer
// dies in between).
//
// What the correct ring guarantees across SIGKILLs (both sides killable, respawned):
// - a producer killed after writing a slot and before publishing it loses that one message: the
//   slot stays unpublished and the next incarnation, which does not know the message, writes its
//   own (with the next seq, as spsc_ring's producer does) into the same slot;
// - a consumer killed after reading a slot and before advancing loses nothing: the slot is still
//   its own (the producer cannot reuse it), so the next incarnation reads it again. When the dead
//   one had already recorded it, that re-read is recognised (the first read of an incarnation
//   whose seq is the last recorded one) and not recorded twice.
// So messages lost <= producer deaths; the accounting is spsc_ring's (RecordSeq, AccountLost).

struct MiniSlot {
  std::uint64_t seq;
  std::uint64_t sum;
  std::byte payload[48];
};
constexpr std::uint32_t kMiniSlots = 64;
struct MiniRing {
  alignas(64) std::atomic<std::uint64_t> head;
  alignas(64) std::atomic<std::uint64_t> tail;
  alignas(64) SpscState st;  // the end-to-end accounting
  MiniSlot slots[kMiniSlots];
};

std::uint64_t MiniSum(const MiniSlot& s) {
  std::uint64_t h = Checksum(s.payload, sizeof s.payload);
  return h ^ (s.seq * 0x9e3779b97f4a7c15ull);
}

// A copy of a slot the producer may be writing (the planted bug's race), through relaxed atomics
// so that the (intended) race stays defined.
MiniSlot ReadMiniSlot(const MiniSlot& s) {
  MiniSlot copy;
  copy.seq = std::atomic_ref<const std::uint64_t>(s.seq).load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < sizeof copy.payload; ++i) copy.payload[i] = std::atomic_ref<const std::byte>(s.payload[i]).load(std::memory_order_relaxed);
  copy.sum = std::atomic_ref<const std::uint64_t>(s.sum).load(std::memory_order_relaxed);
  return copy;
}

// Checks and records the slot read at the tail. `may_be_reread`: this is the first read of a
// consumer incarnation after a killed one (or of the final drain), so the slot may be one the
// dead consumer recorded but did not free; `*reread` is then set instead of recording it twice.
std::string TakeMiniSlot(SpscState& st, const MiniSlot& s, bool may_be_reread, bool* reread) {
  *reread = false;
  if (s.sum != MiniSum(s)) return fmt::format("torn message seq {}: checksum mismatch", s.seq);
  if (may_be_reread && s.seq != 0 && s.seq == st.last.load()) {
    *reread = true;
    return {};
  }
  return RecordSeq(st, s.seq);
}

RunReport RunMiniRing(Chaos& chaos, bool publish_before_write) {
  auto seg = ipc::shm::Segment::CreatePosix("minring", sizeof(MiniRing));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* ring = new (seg->payload().data()) MiniRing{};
  int producer = chaos.Spawn("producer", [&](Participant& p) -> int {
    std::uint64_t h = ring->head.load(std::memory_order_relaxed);
    std::uint64_t seq = ring->st.pending.load();  // a killed incarnation's unpublished seq is skipped
    while (!p.stopping()) {
      auto t0 = Clock::now();
      while (h - ring->tail.load(std::memory_order_acquire) >= kMiniSlots) {
        if (p.stopping()) return 0;
        IPCLAB_CHAOS_POINT("mini.full");
      }
      MiniSlot& s = ring->slots[h % kMiniSlots];
      ring->st.pending.store(++seq);
      if (publish_before_write) {
        ring->head.store(h + 1, std::memory_order_release);  // BUG: published before written
        IPCLAB_CHAOS_POINT("mini.published");
      }
      // Relaxed atomic stores into a slot the consumer may read (see ReadMiniSlot).
      std::atomic_ref<std::uint64_t>(s.seq).store(0, std::memory_order_relaxed);
      for (auto& b : s.payload) std::atomic_ref<std::byte>(b).store(static_cast<std::byte>(p.rng()()), std::memory_order_relaxed);
      IPCLAB_CHAOS_POINT("mini.half_written");
      std::atomic_ref<std::uint64_t>(s.seq).store(seq, std::memory_order_relaxed);
      MiniSlot copy = ReadMiniSlot(s);
      std::atomic_ref<std::uint64_t>(s.sum).store(MiniSum(copy), std::memory_order_relaxed);
      IPCLAB_CRASH_POINT("mini.written");  // the correct ring has not published it: lost
      if (!publish_before_write) ring->head.store(h + 1, std::memory_order_release);  // the commit
      ++h;
      p.Done(Clock::now() - t0);
    }
    return 0;
  }, {.killable = true});
  int consumer = chaos.Spawn("consumer", [&](Participant& p) -> int {
    std::uint64_t t = ring->tail.load(std::memory_order_relaxed);
    bool may_be_reread = p.incarnation() > 0;
    while (!p.stopping()) {
      auto t0 = Clock::now();
      while (ring->head.load(std::memory_order_acquire) == t) {
        if (p.stopping()) return 0;
        IPCLAB_CHAOS_POINT("mini.empty");
      }
      MiniSlot copy = ReadMiniSlot(ring->slots[t % kMiniSlots]);
      IPCLAB_CRASH_POINT("mini.read");  // read, not recorded: the next incarnation reads it again
      bool reread = false;
      if (auto bad = TakeMiniSlot(ring->st, copy, may_be_reread, &reread); !bad.empty()) {
        return p.Fail(fmt::format("ring index {}: {}", t, bad));
      }
      if (reread) p.Recovered();
      may_be_reread = false;
      IPCLAB_CRASH_POINT("mini.recorded");  // recorded, slot not yet freed: re-read, not recorded again
      ring->tail.store(++t, std::memory_order_release);
      p.Done(Clock::now() - t0);
    }
    return 0;
  }, {.killable = true});
  chaos.Run();
  // Every participant has ended: take what is left as one more consumer, then account.
  bool may_be_reread = chaos.deaths(consumer) > 0;
  for (std::uint64_t t = ring->tail.load(), h = ring->head.load(); t < h; ++t) {
    bool reread = false;
    if (auto bad = TakeMiniSlot(ring->st, ReadMiniSlot(ring->slots[t % kMiniSlots]), may_be_reread, &reread);
        !bad.empty()) {
      chaos.AddFinding("invariant-violation", fmt::format("drain: ring index {}: {}", t, bad));
      break;
    }
    if (reread) chaos.AddRecoveries(1);
    may_be_reread = false;
  }
  AccountLost(chaos, ring->st, chaos.deaths(producer), "producer deaths");
  (void)seg->Remove();
  return chaos.Finish();
}

// --- MPMC buffer ---------------------------------------------------------------------------------

constexpr int kMpmcProducers = 2;
constexpr int kMpmcConsumers = 2;
constexpr std::uint64_t kSeenBits = std::uint64_t{1} << 25;  // per producer
constexpr std::uint32_t kMpmcSlots = 16, kMpmcSlotBytes = 256;
struct MpmcState {
  std::atomic<std::uint64_t> pending[kMpmcProducers];
  std::atomic<std::uint64_t> recoveries;
  std::atomic<std::uint64_t> seen[kMpmcProducers][kSeenBits / 64];
};

std::string RecordMpmc(MpmcState& st, std::span<const std::byte> m) {
  MessageHead head;
  if (auto bad = CheckMessage(m, head); !bad.empty()) return bad;
  if (head.producer >= kMpmcProducers || head.seq == 0 || head.seq >= kSeenBits) {
    return fmt::format("message from unknown producer {} / seq {}", head.producer, head.seq);
  }
  std::uint64_t bit = std::uint64_t{1} << (head.seq % 64);
  if (st.seen[head.producer][head.seq / 64].fetch_or(bit) & bit) {
    return fmt::format("message seq {} of producer {} delivered twice", head.seq, head.producer);
  }
  return {};
}

RunReport RunMpmc(Chaos& chaos, bool mid_send_kills) {
  std::size_t ring_bytes = ipc::ring::MpmcBuffer::BytesFor(kMpmcSlots, kMpmcSlotBytes);
  std::size_t state_bytes = (sizeof(MpmcState) + 63) / 64 * 64;
  auto seg = ipc::shm::Segment::CreatePosix("mpmc", state_bytes + ring_bytes);
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* st = new (seg->payload().data()) MpmcState{};
  auto mem = seg->payload().subspan(state_bytes, ring_bytes);
  if (auto s = ipc::ring::MpmcBuffer::Init(mem, kMpmcSlots, kMpmcSlotBytes); !s) {
    chaos.AddFinding("invariant-violation", "init: " + s.error().message());
    return chaos.Finish();
  }
  int lock = chaos.RegisterLock("mpmc.mutex");
  (void)lock;
  for (int i = 0; i < kMpmcProducers; ++i) {
    chaos.Spawn("producer", [&, i](Participant& p) -> int {
      auto buf = ipc::ring::MpmcBuffer::Attach(mem);
      if (!buf) return p.Fail("attach: " + buf.error().message());
      std::vector<std::byte> msg;
      std::uint64_t seq = st->pending[i].load();
      while (!p.stopping() && seq + 1 < kSeenBits) {
        ++seq;
        MakeMessage(p.rng(), static_cast<std::uint64_t>(i), seq, msg, kMpmcSlotBytes - sizeof(MessageHead));
        st->pending[i].store(seq);
        // Now and then die mid-write inside Send, holding the mutex: the commit rule's case.
        if (mid_send_kills && p.rng()() % 4000 == 0) {
          p.PlannedCrash();
          buf->testing().kill_after_bytes = p.rng()() % msg.size();
        }
        auto t0 = Clock::now();
        for (;;) {
          auto s = buf->SendUntil(msg, ipc::sys::Deadline::After(20ms));
          if (s) break;
          if (s.error().err != ETIMEDOUT) return p.Fail("send: " + s.error().message());
          if (p.stopping()) {
            st->pending[i].store(seq - 1);
            return 0;
          }
        }
        p.Done(Clock::now() - t0);
      }
      return 0;
    }, {.killable = true});
  }
  for (int i = 0; i < kMpmcConsumers; ++i) {
    chaos.Spawn("consumer", [&](Participant& p) -> int {
      auto buf = ipc::ring::MpmcBuffer::Attach(mem);
      if (!buf) return p.Fail("attach: " + buf.error().message());
      std::vector<std::byte> out(kMpmcSlotBytes);
      while (!p.stopping()) {
        auto t0 = Clock::now();
        auto n = buf->ReceiveUntil(out, ipc::sys::Deadline::After(20ms));
        if (!n) {
          if (n.error().err == ETIMEDOUT) continue;
          return p.Fail("receive: " + n.error().message());
        }
        IPCLAB_CRASH_POINT("mpmc.before_record");
        if (auto bad = RecordMpmc(*st, std::span(out).first(*n)); !bad.empty()) return p.Fail(bad);
        p.Done(Clock::now() - t0);
      }
      return 0;
    }, {.killable = true});
  }
  chaos.Run();
  // Drain in a bounded child: a primitive wedged by a kill must give a finding, not hang us.
  int drained = chaos.RunBounded("mpmc drain", [&]() -> int {
    auto buf = ipc::ring::MpmcBuffer::Attach(mem);
    if (!buf) {
      std::fprintf(stderr, "mpmc drain attach: %s\n", buf.error().message().c_str());
      return 1;
    }
    std::vector<std::byte> out(kMpmcSlotBytes);
    for (;;) {
      auto n = buf->TryReceive(out);
      if (!n) {
        std::fprintf(stderr, "mpmc drain: %s\n", n.error().message().c_str());
        return 1;
      }
      if (!*n) break;
      if (auto bad = RecordMpmc(*st, std::span(out).first(**n)); !bad.empty()) {
        std::fprintf(stderr, "mpmc drain: %s\n", bad.c_str());
        return 1;
      }
    }
    if (auto r = buf->Recoveries(); r) st->recoveries.store(*r);
    return 0;
  });
  if (drained > 0) chaos.AddFinding("invariant-violation", "the final drain failed (see stderr)");
  chaos.AddRecoveries(st->recoveries.load());
  std::uint64_t missing = 0;
  std::string first_missing;
  for (int i = 0; i < kMpmcProducers; ++i) {
    std::uint64_t pending = st->pending[i].load();
    for (std::uint64_t s = 1; s <= pending; ++s) {
      if (!(st->seen[i][s / 64].load() & (std::uint64_t{1} << (s % 64)))) {
        if (missing++ == 0) first_missing = fmt::format("seq {} of producer {}", s, i);
      }
    }
  }
  if (missing > chaos.crashes_injected()) {
    chaos.AddFinding("invariant-violation",
                     fmt::format("{} messages never delivered (first: {}) but only {} crashes injected",
                                 missing, first_missing, chaos.crashes_injected()));
  }
  chaos.AddLost(missing);
  (void)seg->Remove();
  return chaos.Finish();
}

}  // namespace

void AddRingTargets(std::vector<Target>& out) {
  out.push_back({.name = "spsc_ring",
                 .description = "ipc/ring SPSC ring: producer and consumer SIGKILLed at random and at crash points, "
                                "signal storms; every message once, in order, checksummed, or lost one per crash",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 2000;
                   c.kills_per_second = 4;
                   c.plan.crash_ppm = 100;
                 },
                 .run = RunSpsc});
  out.push_back({.name = "mpmc_buffer",
                 .description = "ipc/ring MPMC buffer, 2 producers + 2 consumers SIGKILLed mid-write inside "
                                "Send (kill_after_bytes) and at crash points; exactly once per message (bitmap) or lost one per crash",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 2000;
                   c.plan.crash_ppm = 100;
                 },
                 .run = [](Chaos& c) { return RunMpmc(c, true); }});
  // SIGKILL at any instant, including inside SharedCondVar's Wait/Notify* (it once wedged
  // glibc's pthread_cond_t; the futex-based condvar has no internal lock to leave held).
  out.push_back({.name = "mpmc_buffer_kill_anywhere",
                 .description = "ipc/ring MPMC buffer with SIGKILLs at any instant (8/s), including inside "
                                "condvar waits and notifies; same invariants as mpmc_buffer",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 2000;
                   c.kills_per_second = 8;
                   c.plan.crash_ppm = 100;
                 },
                 .run = [](Chaos& c) { return RunMpmc(c, true); }});
  // The planted twin runs with the same kills: a producer killed between publishing and writing
  // is the bug's own consequence (a published slot that is never written), which the correct
  // order rules out, so kills neither hide nor fake its finding.
  auto mini_chaos = [](ChaosConfig& c) {
    c.signals_per_second = 500;
    c.kills_per_second = 4;
    c.plan.crash_ppm = 100;
  };
  out.push_back({.name = "mini_ring",
                 .description = "a minimal slot ring that commits by publishing its index after the write (the "
                                "correct twin of planted/ring_no_commit); producer and consumer SIGKILLed (4/s) and "
                                "at crash points between write and publish and between read and advance, respawned; "
                                "every message once, in order, checksummed, or lost one per producer death (a "
                                "consumer death loses nothing: the slot is read again)",
                 .configure = mini_chaos,
                 .run = [](Chaos& c) { return RunMiniRing(c, false); }});
  out.push_back({.name = "planted/ring_no_commit",
                 .description = "planted bug: the minimal ring publishes its index before it writes the slot "
                                "(no commit marker); the consumer reads uncommitted slots (same kills as mini_ring)",
                 .planted = true,
                 .expected_kind = "invariant-violation",
                 .twin = "mini_ring",
                 .configure = mini_chaos,
                 .run = [](Chaos& c) { return RunMiniRing(c, true); }});
}

}  // namespace stress
