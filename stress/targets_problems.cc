// Classic problems as processes: readers-writers (problems/readers_writers' fair ticket solution
// adapted to processes: a robust mutex and a futex condvar in shared memory) with its planted
// reader-preference twin (writers starve), and producer-consumer with Dijkstra's semaphores
// (problems/producer_consumer's `semaphores` variant: process-shared unnamed POSIX semaphores)
// with its planted "mutex before empty" twin (a producer waits for a free slot holding the
// mutex: deadlock).
//
// Neither runs with kills: the ticket lock's reader count and the semaphores' counts belong to
// live processes (a reader or producer killed inside leaves them wrong forever, as for
// pthread_rwlock or a semaphore without SEM_UNDO); the crash-surviving versions of these
// structures are the robust_mutex, sysv_sem_undo and mpmc_buffer targets. They run under signal
// storms aimed at processes and at single threads (EINTR in every futex and sem_wait).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "ipc/shm/segment.h"
#include "ipc/sync/robust_mutex.h"
#include "ipc/sync/semaphore.h"
#include "stress/chaos_point.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// --- Readers-writers -------------------------------------------------------------------------
//
// The lock (under `m`): tickets in arrival order; the holder of ticket `serving` may enter when
// the lock's state allows its kind, then serves the next ticket, so consecutive readers share
// and a writer waits only for those who arrived before it. The planted variant lets a reader in
// whenever no writer is inside (reader preference): with readers always overlapping, writers
// never get in (Courtois, Heymans, Parnas 1971, problem 1).
//
// The data: a version and a 64-byte block derived from it. A writer bumps the version and
// rewrites the block; a reader checks that the block matches the version (no torn read, no writer
// inside). Independent occupancy counters (atomics the lock does not use) check the lock itself:
// a reader never sees a writer inside, a writer never sees anyone.

struct RwState {
  ipc::sync::RobustMutex m;
  ipc::sync::SharedCondVar cv;
  std::uint64_t next_ticket IPC_GUARDED_BY(m);
  std::uint64_t serving IPC_GUARDED_BY(m);
  std::uint32_t readers IPC_GUARDED_BY(m);
  bool writer IPC_GUARDED_BY(m);
  // Occupancy, kept by the participants outside the lock's own state.
  std::atomic<std::int32_t> inside_readers;
  std::atomic<std::int32_t> inside_writers;
  // The data.
  std::uint64_t version;
  std::uint64_t block[8];
  std::atomic<std::uint64_t> writes;  // completed writes
};

void FillBlock(std::uint64_t version, std::uint64_t* block) {
  for (int i = 0; i < 8; ++i) block[i] = (version + 1) * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(i);
}

bool MayEnter(const RwState& s, bool write, bool reader_preference, std::uint64_t ticket) IPC_REQUIRES(s.m) {
  // BUG (planted): no tickets; a reader enters whenever no writer is inside, however long a
  // writer has been waiting.
  if (reader_preference) return write ? !s.writer && s.readers == 0 : !s.writer;
  return s.serving == ticket && !s.writer && (!write || s.readers == 0);
}

// Takes the lock for reading or writing; "" when in, else why not. The mutex is held only inside.
std::string RwEnter(RwState& s, bool write, bool reader_preference) IPC_NO_THREAD_SAFETY_ANALYSIS {
  ipc::sync::LockOutcome out;
  if (!s.m.Lock(out)) return "lock: " + (out.error ? out.error->message() : std::string("?"));
  if (out.owner_died) return "the rwlock's mutex had a dead owner (no kills are planned here)";
  std::uint64_t ticket = reader_preference ? 0 : s.next_ticket++;
  while (!MayEnter(s, write, reader_preference, ticket)) {
    if (!s.cv.WaitFor(s.m, 100ms, out)) {
      if (out.error && out.error->err == ETIMEDOUT) continue;  // re-check (and let the watchdog judge)
      return "wait: " + (out.error ? out.error->message() : std::string("?"));
    }
    if (out.owner_died) {
      s.m.Unlock();
      return "the rwlock's mutex had a dead owner (no kills are planned here)";
    }
  }
  if (write) {
    s.writer = true;
  } else {
    ++s.readers;
  }
  if (!reader_preference) {
    ++s.serving;
    s.cv.NotifyAll();  // the next ticket may be a reader that can join
  }
  s.m.Unlock();
  return {};
}

std::string RwLeave(RwState& s, bool write) IPC_NO_THREAD_SAFETY_ANALYSIS {
  ipc::sync::LockOutcome out;
  if (!s.m.Lock(out)) return "lock: " + (out.error ? out.error->message() : std::string("?"));
  if (write) {
    s.writer = false;
  } else {
    --s.readers;
  }
  s.cv.NotifyAll();
  s.m.Unlock();
  return {};
}

int RwParticipant(RwState& s, bool write, bool reader_preference, Participant& p) {
  while (!p.stopping()) {
    auto t0 = Clock::now();
    if (auto bad = RwEnter(s, write, reader_preference); !bad.empty()) return p.Fail(bad);
    auto waited = Clock::now() - t0;
    if (write) {
      int others = s.inside_readers.load() + s.inside_writers.fetch_add(1);
      if (others != 0) return p.Fail(fmt::format("a writer entered with {} others inside", others));
      std::uint64_t v = s.version + 1;
      s.version = v;
      IPCLAB_CHAOS_POINT("rw.writer.between");
      FillBlock(v, s.block);
      s.writes.fetch_add(1);
      s.inside_writers.fetch_sub(1);
    } else {
      s.inside_readers.fetch_add(1);
      if (int w = s.inside_writers.load(); w != 0) return p.Fail(fmt::format("a reader entered with {} writers inside", w));
      std::uint64_t v = s.version;
      // Readers stay a while, so that in the planted variant they always overlap.
      timespec nap{0, 100'000};
      ::nanosleep(&nap, nullptr);
      IPCLAB_CHAOS_POINT("rw.reader.inside");
      std::uint64_t expect[8];
      FillBlock(v, expect);
      if (std::memcmp(expect, s.block, sizeof expect) != 0 || s.version != v) {
        return p.Fail(fmt::format("torn read: version {} with a block of another version", v));
      }
      s.inside_readers.fetch_sub(1);
    }
    if (auto bad = RwLeave(s, write); !bad.empty()) return p.Fail(bad);
    p.Done(waited);
    IPCLAB_CHAOS_POINT("rw.outside");
  }
  return 0;
}

RunReport RunReadersWriters(Chaos& chaos, bool reader_preference) {
  auto seg = ipc::shm::Segment::CreatePosix("rwstate", sizeof(RwState));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* s = new (seg->payload().data()) RwState{};
  (void)s->m.Init();
  (void)s->cv.Init();
  FillBlock(0, s->block);
  for (int i = 0; i < 4; ++i) {
    chaos.Spawn("reader", [&](Participant& p) { return RwParticipant(*s, false, reader_preference, p); });
  }
  for (int i = 0; i < 2; ++i) {
    chaos.Spawn("writer", [&](Participant& p) { return RwParticipant(*s, true, reader_preference, p); });
  }
  chaos.Run();
  (void)seg->Remove();
  RunReport r = chaos.Finish();
  // No lost update: the version is the number of completed writes, and each is a writer's Done().
  std::uint64_t writer_ops = 0;
  for (const auto& p : r.participants) writer_ops += p.role == "writer" ? p.ops : 0;
  if (r.findings.empty() && (s->version != s->writes.load() || s->writes.load() < writer_ops)) {
    r.findings.push_back({"invariant-violation",
                          fmt::format("lost update: version {} after {} writes ({} counted by the writers)",
                                      s->version, s->writes.load(), writer_ops),
                          {}});
  }
  return r;
}

// --- Producer-consumer with semaphores -------------------------------------------------------

constexpr int kPcProducers = 2;
constexpr int kPcSlots = 8;
// Exactly once: the consumer records item seq in slot seq % kPcWindow of its producer; a slot that
// already holds the same seq is a duplicate. Items overtake each other by at most the buffer plus
// the consumers, far less than the window.
constexpr std::uint64_t kPcWindow = 4096;

struct PcItem {
  std::uint64_t producer;
  std::uint64_t seq;
  std::uint64_t sum;
};

struct PcState {
  ipc::sync::UnnamedSemaphore empty;  // free slots
  ipc::sync::UnnamedSemaphore full;   // items
  ipc::sync::RobustMutex m;           // the indices
  std::uint64_t head IPC_GUARDED_BY(m);
  std::uint64_t tail IPC_GUARDED_BY(m);
  PcItem slots[kPcSlots];
  std::atomic<std::uint64_t> produced[kPcProducers];
  std::atomic<std::uint64_t> consumed;
  std::atomic<std::uint64_t> seen[kPcProducers][kPcWindow];
};

std::uint64_t ItemSum(std::uint64_t producer, std::uint64_t seq) {
  return (seq * 0xbf58476d1ce4e5b9ull) ^ (producer * 0x94d049bb133111ebull) ^ 0x5bd1e995;
}

// Waits on a semaphore in short slices (so a stop flag is seen); false when stopping.
bool SemWait(ipc::sync::UnnamedSemaphore& sem, Participant& p, std::string* error) {
  while (!p.stopping()) {
    auto w = sem.WaitFor(50ms);
    if (w) return true;
    if (w.error().err != ETIMEDOUT) {
      *error = "sem_wait: " + w.error().message();
      return false;
    }
  }
  return false;
}

int Producer(PcState& s, int index, bool mutex_before_empty, int lock, Participant& p) IPC_NO_THREAD_SAFETY_ANALYSIS {
  std::uint64_t seq = s.produced[index].load();
  while (!p.stopping()) {
    auto t0 = Clock::now();
    std::string error;
    ipc::sync::LockOutcome out;
    if (mutex_before_empty) {
      // BUG (planted): the mutex first, then wait for a free slot; a consumer needs the mutex to
      // free one.
      p.Waiting(lock);
      if (!s.m.Lock(out)) return p.Fail("lock");
      p.Acquired(lock);
      bool got = false;
      for (;;) {
        auto w = s.empty.WaitFor(50ms);
        if (w) {
          got = true;
          break;
        }
        if (w.error().err != ETIMEDOUT) return p.Fail("sem_wait: " + w.error().message());
        if (p.stopping()) break;
      }
      if (!got) {
        p.Released(lock);
        s.m.Unlock();
        break;
      }
    } else {
      if (!SemWait(s.empty, p, &error)) {
        if (!error.empty()) return p.Fail(error);
        break;
      }
      p.Waiting(lock);
      if (!s.m.Lock(out)) return p.Fail("lock");
      p.Acquired(lock);
    }
    ++seq;
    s.slots[s.head % kPcSlots] = PcItem{static_cast<std::uint64_t>(index), seq, ItemSum(index, seq)};
    IPCLAB_CHAOS_POINT("pc.produced");
    ++s.head;
    p.Released(lock);
    s.m.Unlock();
    s.produced[index].store(seq);
    if (auto r = s.full.Post(); !r) return p.Fail("sem_post: " + r.error().message());
    p.Done(Clock::now() - t0);
  }
  return 0;
}

int Consumer(PcState& s, int lock, Participant& p) IPC_NO_THREAD_SAFETY_ANALYSIS {
  while (!p.stopping()) {
    auto t0 = Clock::now();
    std::string error;
    if (!SemWait(s.full, p, &error)) {
      if (!error.empty()) return p.Fail(error);
      break;
    }
    ipc::sync::LockOutcome out;
    p.Waiting(lock);
    if (!s.m.Lock(out)) return p.Fail("lock");
    p.Acquired(lock);
    if (s.head == s.tail) return p.Fail("consumer woken with an empty buffer (full semaphore out of step)");
    PcItem item = s.slots[s.tail % kPcSlots];
    ++s.tail;
    p.Released(lock);
    s.m.Unlock();
    if (auto r = s.empty.Post(); !r) return p.Fail("sem_post: " + r.error().message());
    if (item.producer >= kPcProducers || item.seq == 0 || item.sum != ItemSum(item.producer, item.seq)) {
      return p.Fail(fmt::format("corrupt item: producer {} seq {}", item.producer, item.seq));
    }
    if (s.seen[item.producer][item.seq % kPcWindow].exchange(item.seq) == item.seq) {
      return p.Fail(fmt::format("item {} of producer {} consumed twice", item.seq, item.producer));
    }
    s.consumed.fetch_add(1);
    p.Done(Clock::now() - t0);
  }
  return 0;
}

RunReport RunProducerConsumer(Chaos& chaos, bool mutex_before_empty) IPC_NO_THREAD_SAFETY_ANALYSIS {
  auto seg = ipc::shm::Segment::CreatePosix("pcstate", sizeof(PcState));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* s = new (seg->payload().data()) PcState{};
  if (!s->empty.Init(kPcSlots) || !s->full.Init(0) || !s->m.Init()) {
    chaos.AddFinding("invariant-violation", "setup: semaphore or mutex init failed");
    (void)seg->Remove();
    return chaos.Finish();
  }
  int lock = chaos.RegisterLock("pc.mutex");
  for (int i = 0; i < kPcProducers; ++i) {
    chaos.Spawn("producer", [&, i](Participant& p) { return Producer(*s, i, mutex_before_empty, lock, p); });
  }
  for (int i = 0; i < 2; ++i) {
    chaos.Spawn("consumer", [&](Participant& p) { return Consumer(*s, lock, p); });
  }
  chaos.Run();
  // Every participant has ended: what is still in the buffer is accounted for by a drain.
  std::uint64_t in_buffer = s->head - s->tail;
  std::uint64_t produced = 0;
  for (int i = 0; i < kPcProducers; ++i) produced += s->produced[i].load();
  // (After a hang the watchdog SIGKILLed everyone, possibly between an index and its semaphore.)
  if (!chaos.has_findings() && produced != s->consumed.load() + in_buffer) {
    chaos.AddFinding("invariant-violation", fmt::format("{} items produced, {} consumed and {} left in the buffer",
                                                        produced, s->consumed.load(), in_buffer));
  }
  auto full = s->full.Value();
  if (full && static_cast<std::uint64_t>(*full) != in_buffer && !chaos.has_findings()) {
    chaos.AddFinding("invariant-violation",
                     fmt::format("the full semaphore counts {} with {} items in the buffer", *full, in_buffer));
  }
  (void)s->empty.Destroy();
  (void)s->full.Destroy();
  (void)seg->Remove();
  return chaos.Finish();
}

}  // namespace

void AddProblemTargets(std::vector<Target>& out) {
  auto storm = [](ChaosConfig& c) {
    c.signals_per_second = 3000;
    c.thread_signal_share = 0.5;
  };
  out.push_back({.name = "readers_writers",
                 .description = "readers-writers as 6 processes (4 readers, 2 writers), the fair ticket rwlock of "
                                "problems/readers_writers on a robust mutex + futex condvar; no writer with readers, "
                                "no torn read, no lost update; each role's Jain index >= 0.5, nobody below 5% of the mean",
                 .configure = [storm](ChaosConfig& c) {
                   storm(c);
                   c.min_share = 0.05;
                   c.min_role_jain = 0.5;
                 },
                 .run = [](Chaos& c) { return RunReadersWriters(c, false); }});
  out.push_back({.name = "planted/rw_reader_preference",
                 .description = "planted bug: readers enter whenever no writer is inside; overlapping readers "
                                "starve the writers (starvation: a writer below 5% of the mean)",
                 .planted = true,
                 .expected_kind = "starvation",
                 .twin = "readers_writers",
                 .configure = [storm](ChaosConfig& c) {
                   storm(c);
                   c.min_share = 0.05;
                   c.min_role_jain = 0.5;
                 },
                 .run = [](Chaos& c) { return RunReadersWriters(c, true); }});
  out.push_back({.name = "producer_consumer",
                 .description = "producer-consumer as 4 processes with Dijkstra's semaphores (process-shared sem_t "
                                "empty/full + robust mutex); every item exactly once, checksums, counts consistent",
                 .configure = storm,
                 .run = [](Chaos& c) { return RunProducerConsumer(c, false); }});
  out.push_back({.name = "planted/pc_mutex_before_empty",
                 .description = "planted bug: a producer takes the mutex, then waits for a free slot; consumers "
                                "cannot take the mutex to free one (hang: producer holds pc.mutex in sem_wait)",
                 .planted = true,
                 .expected_kind = "hang|deadlock",
                 .twin = "producer_consumer",
                 .configure = [storm](ChaosConfig& c) {
                   storm(c);
                   c.hang_after = std::chrono::milliseconds(1000);
                 },
                 .run = [](Chaos& c) { return RunProducerConsumer(c, true); }});
}

}  // namespace stress
