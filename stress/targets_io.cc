// Stream and lock-file targets: ipc/mailbox (POSIX mq and System V) and ipc/pipe under signal
// storms (EINTR must never lose, duplicate or end a stream), a raw pipe reader with and without
// the planted "EINTR treated as end of file" bug, lock files (ipc/filelock's LockFile under
// kills; a naive lock file with and without O_EXCL), and a malloc-heavy workload whose signal
// handler is, in the planted variant, not async-signal-safe.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/filelock/filelock.h"
#include "ipc/mailbox/posix_mq.h"
#include "ipc/mailbox/sysv_msg.h"
#include "ipc/pipe/io.h"
#include "ipc/pipe/pipe.h"
#include "ipc/shm/segment.h"
#include "ipc/sys/fd.h"
#include "stress/chaos_point.h"
#include "stress/proc.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWriters = 3;

// Per-writer accounting, in shared memory: what each writer sent (Send returned), what the reader
// took in order.
struct StreamState {
  std::atomic<std::uint64_t> sent[kWriters];
  std::atomic<std::uint64_t> received[kWriters];
  std::atomic<std::uint32_t> early_eof;
};

struct Record {  // 64 bytes: fits any mailbox and is written atomically to a pipe
  std::uint32_t writer;
  std::uint32_t pad;
  std::uint64_t seq;
  std::uint64_t sum;
  std::byte payload[40];
};
static_assert(sizeof(Record) == 64);

Record MakeRecord(std::mt19937_64& rng, std::uint32_t writer, std::uint64_t seq) {
  Record r{};
  r.writer = writer;
  r.seq = seq;
  for (auto& b : r.payload) b = static_cast<std::byte>(rng());
  r.sum = Checksum(r.payload, sizeof r.payload) ^ seq ^ (std::uint64_t{writer} << 56);
  return r;
}

// Takes one record in; "" when it is the next one of its writer and intact.
std::string Accept(StreamState& st, std::span<const std::byte> bytes) {
  if (bytes.size() != sizeof(Record)) return fmt::format("message of {} bytes, expected 64", bytes.size());
  Record r;
  std::memcpy(&r, bytes.data(), sizeof r);
  if (r.writer >= kWriters) return fmt::format("unknown writer {}", r.writer);
  if (r.sum != (Checksum(r.payload, sizeof r.payload) ^ r.seq ^ (std::uint64_t{r.writer} << 56))) {
    return fmt::format("checksum mismatch on seq {} of writer {}", r.seq, r.writer);
  }
  std::uint64_t want = st.received[r.writer].load() + 1;
  if (r.seq != want) {
    return fmt::format("writer {}: got seq {}, expected {} ({})", r.writer, r.seq, want,
                       r.seq < want ? "duplicate" : "lost messages");
  }
  st.received[r.writer].store(r.seq);
  return {};
}

std::string CheckAllAccounted(const StreamState& st) {
  for (int w = 0; w < kWriters; ++w) {
    if (st.received[w].load() != st.sent[w].load()) {
      return fmt::format("writer {} sent {} messages, the reader got {}", w, st.sent[w].load(), st.received[w].load());
    }
  }
  return {};
}

StreamState* NewStreamState(Chaos& chaos, std::optional<ipc::shm::Segment>& seg) {
  auto s = ipc::shm::Segment::CreatePosix("stream", sizeof(StreamState));
  if (!s) {
    chaos.AddFinding("invariant-violation", "setup: " + s.error().message());
    return nullptr;
  }
  seg.emplace(std::move(*s));
  return new (seg->payload().data()) StreamState{};
}

// --- Mailboxes -------------------------------------------------------------------------------------

RunReport RunMailbox(Chaos& chaos, bool posix) {
  std::optional<ipc::shm::Segment> seg;
  StreamState* st = NewStreamState(chaos, seg);
  if (!st) return chaos.Finish();
  ipc::mailbox::Options options{.capacity = 8, .max_message_size = sizeof(Record)};
  std::unique_ptr<ipc::mailbox::Mailbox> box;
  if (posix) {
    auto b = ipc::mailbox::PosixMqMailbox::Create("stress-mq", options);
    if (b) box = std::move(*b);
    else chaos.AddFinding("invariant-violation", "setup: " + b.error().message());
  } else {
    auto b = ipc::mailbox::SysvMsgMailbox::Create("stress-msg", options);
    if (b) box = std::move(*b);
    else chaos.AddFinding("invariant-violation", "setup: " + b.error().message());
  }
  if (!box) {
    (void)seg->Remove();
    return chaos.Finish();
  }
  for (int w = 0; w < kWriters; ++w) {
    chaos.Spawn("sender", [&, w](Participant& p) -> int {
      std::uint64_t seq = st->sent[w].load();
      while (!p.stopping()) {
        Record r = MakeRecord(p.rng(), static_cast<std::uint32_t>(w), seq + 1);
        auto t0 = Clock::now();
        auto s = box->SendFor(std::as_bytes(std::span(&r, 1)), 0, 20ms);
        if (!s) {
          if (s.error().err == ETIMEDOUT) continue;
          return p.Fail("send: " + s.error().message());
        }
        st->sent[w].store(++seq);
        p.Done(Clock::now() - t0);
      }
      return 0;
    });
  }
  chaos.Spawn("receiver", [&](Participant& p) -> int {
    while (!p.stopping()) {
      auto t0 = Clock::now();
      auto m = box->ReceiveFor(20ms);
      if (!m) {
        if (m.error().err == ETIMEDOUT) continue;
        return p.Fail("receive: " + m.error().message());
      }
      if (auto bad = Accept(*st, m->data); !bad.empty()) return p.Fail(bad);
      p.Done(Clock::now() - t0);
    }
    return 0;
  });
  chaos.Run();
  for (;;) {  // every participant has ended: drain what is queued
    auto m = box->TryReceive();
    if (!m) {
      if (m.error().err != EAGAIN && m.error().err != ETIMEDOUT && m.error().err != ENOMSG) {
        chaos.AddFinding("invariant-violation", "drain: " + m.error().message());
      }
      break;
    }
    if (auto bad = Accept(*st, m->data); !bad.empty()) {
      chaos.AddFinding("invariant-violation", "drain: " + bad);
      break;
    }
  }
  if (auto bad = CheckAllAccounted(*st); !bad.empty()) chaos.AddFinding("invariant-violation", bad);
  box.reset();
  (void)seg->Remove();
  return chaos.Finish();
}

// --- Pipes ---------------------------------------------------------------------------------------

enum class PipeReaderKind { kFramed, kRaw, kRawEintrIsEof };

RunReport RunPipe(Chaos& chaos, PipeReaderKind kind) {
  std::optional<ipc::shm::Segment> seg;
  StreamState* st = NewStreamState(chaos, seg);
  if (!st) return chaos.Finish();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    chaos.AddFinding("invariant-violation", "pipe2 failed");
    (void)seg->Remove();
    return chaos.Finish();
  }
  int rd = fds[0], wr = fds[1];
  for (int w = 0; w < kWriters; ++w) {
    chaos.Spawn("writer", [&, w](Participant& p) -> int {
      ::close(rd);
      ::signal(SIGPIPE, SIG_IGN);  // a vanished reader is EPIPE, handled below
      ipc::pipe::PipeWriter writer(wr, static_cast<std::uint32_t>(w + 1));
      std::uint64_t seq = 0;
      while (!p.stopping()) {
        Record r = MakeRecord(p.rng(), static_cast<std::uint32_t>(w), seq + 1);
        auto bytes = std::as_bytes(std::span(&r, 1));
        auto t0 = Clock::now();
        auto s = kind == PipeReaderKind::kFramed ? writer.Send(bytes) : ipc::pipe::WriteAll(wr, bytes);
        if (!s) {
          if (s.error().err == EPIPE) return 0;  // the reader left (the planted bug's doing)
          return p.Fail("write: " + s.error().message());
        }
        st->sent[w].store(++seq);
        p.Done(Clock::now() - t0);
        IPCLAB_CHAOS_POINT("pipe.after_write");
      }
      return 0;
    });
  }
  chaos.Spawn("reader", [&](Participant& p) -> int {
    ::close(wr);
    auto finish = [&]() -> int {  // end of stream: every writer must have finished and been read
      if (!p.stopping()) {
        st->early_eof.store(1);
        return p.Fail("end of stream while the writers still run (EINTR taken for end of file?)");
      }
      if (auto bad = CheckAllAccounted(*st); !bad.empty()) {
        return p.Fail("end of stream " + std::string(p.stopping() ? "" : "while writers still run ") + "and " + bad);
      }
      return 0;
    };
    if (kind == PipeReaderKind::kFramed) {
      ipc::pipe::PipeReader reader(rd);
      for (;;) {
        auto t0 = Clock::now();
        auto m = reader.Receive();
        if (!m) return p.Fail("receive: " + m.error().message());
        if (!*m) return finish();
        if (auto bad = Accept(*st, **m); !bad.empty()) return p.Fail(bad);
        p.Done(Clock::now() - t0);
      }
    }
    for (;;) {
      Record r;
      auto t0 = Clock::now();
      if (kind == PipeReaderKind::kRawEintrIsEof) {
        // BUG (planted): any -1 (EINTR included) or short read is taken for end of file.
        ssize_t n = ::read(rd, &r, sizeof r);
        if (n != static_cast<ssize_t>(sizeof r)) return finish();
      } else {
        auto got = ipc::pipe::ReadExact(rd, std::as_writable_bytes(std::span(&r, 1)));
        if (!got) return p.Fail("read: " + got.error().message());
        if (!*got) return finish();
      }
      if (auto bad = Accept(*st, std::as_bytes(std::span(&r, 1))); !bad.empty()) return p.Fail(bad);
      p.Done(Clock::now() - t0);
    }
  });
  ::close(rd);
  ::close(wr);
  chaos.Run();
  (void)seg->Remove();
  return chaos.Finish();
}

// --- FIFO with chunked messages, writers killed mid-message ------------------------------------
//
// Messages of 100 to 12000 bytes: up to three PIPE_BUF records each, so a writer killed between
// its records (the `pipe.between_records` crash point inside ipc/pipe, or a driver SIGKILL) leaves
// a partial message in the FIFO. The reader must keep every other writer's stream intact: the
// dead incarnation's chunks carry its own writer id (its pid) and are never completed, and the
// new incarnation sends that sequence number again. A writer killed after Send returned but
// before it recorded the send may send the same sequence number once more (a new incarnation
// tag): accepted as a resend after a crash, never otherwise.

struct FifoState {
  std::atomic<std::uint64_t> sent[kWriters];       // last seq whose Send returned
  std::atomic<std::uint64_t> sending[kWriters];    // seq of the Send under way (or last begun)
  std::atomic<std::uint64_t> received[kWriters];   // last seq the reader took
  std::atomic<std::uint64_t> incarnation[kWriters];  // of the last message taken
  std::atomic<std::int32_t> writer_pid[kWriters];  // the current incarnation
  std::atomic<std::uint32_t> writers_done[kWriters];
  std::atomic<std::uint64_t> resent;
};

struct FifoHead {
  std::uint64_t writer, seq, incarnation, sum;
};

std::string AcceptFifo(FifoState& st, const std::vector<std::byte>& m) {
  if (m.size() < sizeof(FifoHead)) return fmt::format("message of {} bytes", m.size());
  FifoHead h;
  std::memcpy(&h, m.data(), sizeof h);
  if (h.writer >= kWriters) return fmt::format("unknown writer {}", h.writer);
  std::uint64_t sum = Checksum(m.data() + sizeof h, m.size() - sizeof h) ^ h.seq ^ (h.writer << 56);
  if (sum != h.sum) return fmt::format("checksum mismatch on seq {} of writer {} ({} bytes)", h.seq, h.writer, m.size());
  std::uint64_t last = st.received[h.writer].load();
  if (h.seq == last && h.incarnation > st.incarnation[h.writer].load()) {
    st.resent.fetch_add(1);  // sent again by the next incarnation of a writer killed after Send
  } else if (h.seq != last + 1) {
    return fmt::format("writer {}: seq {} after {} ({})", h.writer, h.seq, last, h.seq <= last ? "duplicate" : "lost");
  }
  st.received[h.writer].store(h.seq);
  st.incarnation[h.writer].store(h.incarnation);
  return {};
}

RunReport RunFifo(Chaos& chaos) {
  std::optional<ipc::shm::Segment> seg;
  auto s = ipc::shm::Segment::CreatePosix("fifostate", sizeof(FifoState));
  auto dir = ipc::audit::PrivateDir::Create("stress-fifo");
  if (!s || !dir) {
    chaos.AddFinding("invariant-violation", "setup failed");
    return chaos.Finish();
  }
  seg.emplace(std::move(*s));
  auto* st = new (seg->payload().data()) FifoState{};
  auto path = ipc::pipe::MakeFifo(*dir, "fifo");
  if (!path) {
    chaos.AddFinding("invariant-violation", "mkfifo: " + path.error().message());
  } else {
    for (int w = 0; w < kWriters; ++w) {
      chaos.Spawn("writer", [&, w](Participant& p) -> int {
        ::signal(SIGPIPE, SIG_IGN);
        st->writer_pid[w].store(::getpid());
        // Short waits: an incarnation started just before the stop flag must not wait for a reader
        // that has already drained and left.
        std::optional<ipc::sys::Fd> fd;
        while (!fd) {
          if (p.stopping()) {
            st->writers_done[w].store(1);
            return 0;
          }
          auto f = ipc::pipe::OpenFifoWriter(*path, ipc::sys::Deadline::After(100ms));
          if (f) fd.emplace(std::move(*f));
          // ENXIO: no reader yet and the short deadline had passed before the first try (a loaded
          // machine); ETIMEDOUT: none within it. Both: try again.
          else if (f.error().err != ETIMEDOUT && f.error().err != ENXIO) return p.Fail("open writer: " + f.error().message());
        }
        ipc::pipe::PipeWriter writer(fd->get(), static_cast<std::uint32_t>(::getpid()));
        std::vector<std::byte> m;
        while (!p.stopping()) {
          std::uint64_t seq = st->sent[w].load() + 1;
          m.resize(sizeof(FifoHead) + 100 + p.rng()() % 11900);
          for (std::size_t i = sizeof(FifoHead); i < m.size(); ++i) m[i] = static_cast<std::byte>(p.rng()());
          FifoHead h{static_cast<std::uint64_t>(w), seq, p.incarnation(), 0};
          h.sum = Checksum(m.data() + sizeof h, m.size() - sizeof h) ^ seq ^ (h.writer << 56);
          std::memcpy(m.data(), &h, sizeof h);
          auto t0 = Clock::now();
          st->sending[w].store(seq);
          if (auto r = writer.Send(m); !r) return p.Fail("send: " + r.error().message());
          st->sent[w].store(seq);
          p.Done(Clock::now() - t0);
        }
        st->writers_done[w].store(1);
        return 0;
      }, {.killable = true});
    }
    chaos.Spawn("reader", [&](Participant& p) -> int {
      auto rd = ipc::pipe::OpenFifoReader(*path, ipc::pipe::FifoOpen::kNonBlock);
      if (!rd) return p.Fail("open reader: " + rd.error().message());
      // The reader holds a write end too: the FIFO never reports end of file while writers die
      // and respawn (and their opens never wait for a reader).
      auto self = ipc::pipe::OpenFifoWriter(*path, ipc::sys::Deadline::After(5s));
      if (!self) return p.Fail("open own writer: " + self.error().message());
      if (auto b = ipc::sys::SetNonBlocking(rd->get(), false); !b) return p.Fail("blocking: " + b.error().message());
      ipc::pipe::PipeReader reader(rd->get());
      for (;;) {
        // After the stop flag no writer is respawned and none starts a message: once each has
        // ended (or was killed), what is left in the FIFO is all there is.
        bool all_done = p.stopping();
        for (int w = 0; w < kWriters && all_done; ++w) {
          all_done = st->writers_done[w].load() != 0 || !Running(st->writer_pid[w].load());
        }
        auto t0 = Clock::now();
        auto m = reader.Receive(ipc::sys::Deadline::After(all_done ? 100ms : 50ms));
        if (!m) {
          if (m.error().err != ETIMEDOUT) return p.Fail("receive: " + m.error().message());
          if (all_done) break;  // every writer ended and the FIFO stayed empty: drained
          continue;
        }
        if (!*m) return p.Fail("end of file with a write end held");
        if (auto bad = AcceptFifo(*st, **m); !bad.empty()) return p.Fail(bad);
        p.Done(Clock::now() - t0);
      }
      for (int w = 0; w < kWriters; ++w) {
        // One more than recorded: the last writer incarnation was killed after its Send
        // returned and before it recorded it (and none came after to resend it).
        std::uint64_t got = st->received[w].load(), sent = st->sent[w].load();
        if (got != sent && !(got == sent + 1 && st->sending[w].load() == got)) {
          return p.Fail(fmt::format("writer {} sent {} messages, the reader got {}", w, st->sent[w].load(),
                                    st->received[w].load()));
        }
      }
      return 0;
    });
    chaos.Run();
  }
  (void)seg->Remove();
  { ipc::audit::PrivateDir gone(std::move(*dir)); }
  return chaos.Finish();
}

// --- Lock files ----------------------------------------------------------------------------------

struct Occupancy {
  std::atomic<std::int32_t> holder;
};

// Enter/leave the critical section's occupancy record (see targets_sync.cc's semaphore target:
// a dead holder is given time to finish dying; a live one would have left).
std::string Enter(Occupancy& o, Participant& p) {
  std::int32_t me = ::getpid(), prev = o.holder.load();
  if (prev != 0) {
    auto until = Clock::now() + 500ms;
    while (Running(prev) && o.holder.load() == prev && Clock::now() < until) ::usleep(200);
    if (o.holder.load() != prev || Running(prev)) return fmt::format("mutual exclusion broken: pid {} was inside too", prev);
    p.Recovered();
  }
  if (!o.holder.compare_exchange_strong(prev, me)) return fmt::format("mutual exclusion broken: pid {} entered with me", prev);
  return {};
}

std::string Leave(Occupancy& o) {
  std::int32_t me = ::getpid();
  if (!o.holder.compare_exchange_strong(me, 0)) return fmt::format("mutual exclusion broken: pid {} replaced me inside", me);
  return {};
}

enum class LockKind { kFilelock, kNaiveExcl, kNaiveNoExcl };

RunReport RunLockFile(Chaos& chaos, LockKind kind) {
  auto dir = ipc::audit::PrivateDir::Create("stress-lock");
  auto seg = ipc::shm::Segment::CreatePosix("occupancy", sizeof(Occupancy));
  if (!dir || !seg) {
    chaos.AddFinding("invariant-violation", "setup failed");
    return chaos.Finish();
  }
  auto* occ = new (seg->payload().data()) Occupancy{};
  std::string path = dir->file("lock");
  int lock = chaos.RegisterLock("lockfile");
  for (int i = 0; i < 4; ++i) {
    chaos.Spawn("worker", [&](Participant& p) -> int {
      while (!p.stopping()) {
        auto t0 = Clock::now();
        p.Waiting(lock);
        std::optional<ipc::filelock::LockFile> held;
        if (kind == LockKind::kFilelock) {
          auto l = ipc::filelock::LockFile::Acquire(path, ipc::sys::Deadline::After(50ms));
          if (!l) {
            if (l.error().err == ETIMEDOUT) continue;
            return p.Fail("acquire: " + l.error().message());
          }
          held.emplace(std::move(*l));
        } else {
          for (;;) {
            if (p.stopping()) return 0;
            if (kind == LockKind::kNaiveNoExcl) {
              // BUG (planted): check, then create without O_EXCL; two processes can both pass.
              if (::access(path.c_str(), F_OK) == 0) {
                IPCLAB_CRASH_POINT("naive.busy");
                continue;
              }
              IPCLAB_CHAOS_POINT("naive.checked");
              int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
              if (fd < 0) return p.Fail("open lock file failed");
              ::close(fd);
              break;
            }
            int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
            if (fd >= 0) {
              ::close(fd);
              break;
            }
            if (errno != EEXIST) return p.Fail("open lock file failed");
            IPCLAB_CRASH_POINT("naive.busy");
          }
        }
        p.Acquired(lock);
        if (auto bad = Enter(*occ, p); !bad.empty()) return p.Fail(bad);
        // A naive lock file outlives a holder killed here for ever (what LockFile repairs), so only
        // LockFile's holders die inside.
        if (kind == LockKind::kFilelock) IPCLAB_CRASH_POINT("lockfile.inside");
        IPCLAB_CHAOS_POINT("lockfile.inside");
        if (auto bad = Leave(*occ); !bad.empty()) return p.Fail(bad);
        p.Released(lock);
        if (held) {
          if (auto r = held->Release(); !r) return p.Fail("release: " + r.error().message());
        } else {
          ::unlink(path.c_str());
        }
        IPCLAB_CRASH_POINT("lockfile.released");
        p.Done(Clock::now() - t0);
      }
      return 0;
    }, {.killable = true});
  }
  chaos.Run();
  (void)seg->Remove();
  { ipc::audit::PrivateDir gone(std::move(*dir)); }  // removed before the leak audit
  return chaos.Finish();
}

// --- Signal handlers and malloc ------------------------------------------------------------------

// `killable`: the driver SIGKILLs allocators at random instants (mostly inside malloc or free,
// where they spend their time) and respawns them; a dead process's heap dies with it, so what
// must hold is that the others keep working, every live one stops when asked, nothing leaks.
// (No crash points: their scheduling noise would take the time out of malloc.)
RunReport RunMallocStorm(Chaos& chaos, bool killable) {
  for (int i = 0; i < 3; ++i) {
    chaos.Spawn("allocator", [](Participant& p) -> int {
      // A second thread makes glibc's malloc take its arena locks (a single-threaded process
      // skips them), which is where a handler calling malloc deadlocks.
      std::atomic<bool> done{false};
      std::thread helper([&] {
        while (!done.load()) std::this_thread::sleep_for(10ms);
      });
      // A pool of blocks of mixed sizes (beyond the per-thread cache, below the mmap threshold),
      // replaced at random: most of the time goes into malloc and free under the arena lock.
      std::uint64_t blocks = 0, marks = 0;  // each block's mark read back (an incarnation started
                                            // just before the stop may do none)
      std::vector<char*> pool(64, nullptr);
      while (!p.stopping()) {
        auto t0 = Clock::now();
        for (int k = 0; k < 8; ++k) {
          char*& slot = pool[p.rng()() % pool.size()];
          std::free(slot);
          std::size_t n = 1024 + p.rng()() % (120 * 1024);
          slot = static_cast<char*>(std::malloc(n));
          if (!slot) return p.Fail("malloc failed");
          slot[n / 2] = 1;
          marks += static_cast<unsigned char>(slot[n / 2]);
          ++blocks;
        }
        p.Done(Clock::now() - t0);
      }
      for (char* b : pool) std::free(b);
      done.store(true);
      helper.join();
      return marks == blocks ? 0 : p.Fail(fmt::format("{} of {} blocks read back their mark", marks, blocks));
    }, {.killable = killable});
  }
  chaos.Run();
  return chaos.Finish();
}

}  // namespace

void AddIoTargets(std::vector<Target>& out) {
  auto storm = [](ChaosConfig& c) { c.signals_per_second = 5000; };
  out.push_back({.name = "mailbox_posix",
                 .description = "ipc/mailbox POSIX mq, 3 senders + 1 receiver under a 5000/s signal storm; every "
                                "message once, in order per sender, checksummed",
                 .configure = storm,
                 .run = [](Chaos& c) { return RunMailbox(c, true); }});
  out.push_back({.name = "mailbox_sysv",
                 .description = "ipc/mailbox System V msg queue, the same under a 5000/s signal storm",
                 .configure = storm,
                 .run = [](Chaos& c) { return RunMailbox(c, false); }});
  out.push_back({.name = "pipe_framed",
                 .description = "ipc/pipe framed pipe, 3 writers + 1 reader under a 5000/s signal storm; EINTR is "
                                "never end of file, every message once",
                 .configure = storm,
                 .run = [](Chaos& c) { return RunPipe(c, PipeReaderKind::kFramed); }});
  out.push_back({.name = "pipe_raw",
                 .description = "raw 64-byte records on a pipe, reader retries EINTR (twin of planted/pipe_eintr_as_eof)",
                 .configure = storm,
                 .run = [](Chaos& c) { return RunPipe(c, PipeReaderKind::kRaw); }});
  out.push_back({.name = "planted/pipe_eintr_as_eof",
                 .description = "planted bug: the raw reader takes read()'s -1/EINTR for end of file",
                 .planted = true,
                 .expected_kind = "invariant-violation",
                 .twin = "pipe_raw",
                 .configure = storm,
                 .run = [](Chaos& c) { return RunPipe(c, PipeReaderKind::kRawEintrIsEof); }});
  out.push_back({.name = "fifo_chunked",
                 .description = "ipc/pipe framed messages of up to 3 records over a FIFO, 3 writers SIGKILLed "
                                "(also between the records of a message, inside ipc/pipe) and respawned, 3000 "
                                "signals/s; the reader's other streams stay intact, every message once",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 3000;
                   c.kills_per_second = 3;
                   c.plan.crash_ppm = 3000;
                 },
                 .run = RunFifo});
  out.push_back({.name = "lockfile",
                 .description = "ipc/filelock LockFile, 4 workers SIGKILLed inside; stale locks broken, mutual "
                                "exclusion holds",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 1000;
                   c.kills_per_second = 5;
                   c.plan.crash_ppm = 2000;
                 },
                 .run = [](Chaos& c) { return RunLockFile(c, LockKind::kFilelock); }});
  // The naive lock files die only where no lock is held (crash points while waiting and after the
  // release; no random kills): a holder killed inside leaves the file for ever, the naive design's
  // known limit that LockFile (`lockfile`) fixes. A dead waiter holds nothing, so it can neither
  // hide nor fake the planted race.
  auto naive_chaos = [](ChaosConfig& c) {
    c.signals_per_second = 1000;
    c.plan.crash_ppm = 500;
  };
  out.push_back({.name = "lockfile_excl",
                 .description = "a naive lock file created with O_EXCL (twin of planted/lockfile_no_excl); workers "
                                "SIGKILLed only where they hold no lock (crash points while waiting and after the "
                                "release: a holder killed inside would leave the file for ever, which `lockfile` "
                                "covers) and respawned; mutual exclusion holds",
                 .configure = naive_chaos,
                 .run = [](Chaos& c) { return RunLockFile(c, LockKind::kNaiveExcl); }});
  out.push_back({.name = "planted/lockfile_no_excl",
                 .description = "planted bug: the naive lock file checks for the file, then creates it without "
                                "O_EXCL (same crash points as lockfile_excl)",
                 .planted = true,
                 .expected_kind = "invariant-violation",
                 .twin = "lockfile_excl",
                 .configure = naive_chaos,
                 .run = [](Chaos& c) { return RunLockFile(c, LockKind::kNaiveNoExcl); }});
  out.push_back({.name = "malloc_storm",
                 .description = "malloc-heavy processes (2 threads each) under a 20000/s signal storm with an "
                                "async-signal-safe handler (twin of planted/unsafe_signal_handler), SIGKILLed (4/s, "
                                "mostly inside malloc/free) and respawned; the others keep working, nothing hangs "
                                "or leaks",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 20000;
                   c.kills_per_second = 4;
                 },
                 .run = [](Chaos& c) { return RunMallocStorm(c, true); }});
  out.push_back({.name = "planted/unsafe_signal_handler",
                 .description = "planted bug: the handler calls malloc and snprintf; a signal inside malloc "
                                "deadlocks on the arena lock (watchdog: hang in futex) or corrupts the heap; no "
                                "kills (a SIGKILL of the deadlocked process would end the very hang under test)",
                 .planted = true,
                 .expected_kind = "hang|crash",
                 .twin = "malloc_storm",
                 .native_only = true,
                 .test_duration = kHangPlantedTestDuration,
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 20000;
                   c.unsafe_signal_handler = true;
                   c.hang_after = std::chrono::milliseconds(1000);
                 },
                 .run = [](Chaos& c) { return RunMallocStorm(c, false); }});
}

}  // namespace stress
