#include "ipc/pipe/pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/pipe/io.h"

namespace ipc::pipe {
namespace {

using namespace std::chrono_literals;
using signal::Child;
using signal::Restart;
using signal::ScopedAlarm;
using signal::ScopedHandler;
using signal::SignalStorm;

// A message whose content says who sent it and checks itself: writer, seq, length, then a pattern.
std::vector<std::byte> MakeMessage(uint32_t writer, uint32_t seq, size_t len) {
  len = std::max<size_t>(len, 12);
  std::vector<std::byte> m(len);
  std::memcpy(m.data(), &writer, 4);
  std::memcpy(m.data() + 4, &seq, 4);
  uint32_t l32 = static_cast<uint32_t>(len);
  std::memcpy(m.data() + 8, &l32, 4);
  for (size_t i = 12; i < len; ++i) m[i] = std::byte((writer * 31 + seq * 7 + i) & 0xff);
  return m;
}
// Checks a message made by MakeMessage and returns (writer, seq).
std::pair<uint32_t, uint32_t> CheckMessage(const std::vector<std::byte>& m) {
  EXPECT_GE(m.size(), 12u);
  uint32_t writer, seq, len;
  std::memcpy(&writer, m.data(), 4);
  std::memcpy(&seq, m.data() + 4, 4);
  std::memcpy(&len, m.data() + 8, 4);
  EXPECT_EQ(len, m.size());
  for (size_t i = 12; i < m.size(); ++i) {
    if (m[i] != std::byte((writer * 31 + seq * 7 + i) & 0xff)) {
      ADD_FAILURE() << "message " << seq << " of writer " << writer << " corrupt at byte " << i;
      break;
    }
  }
  return {writer, seq};
}

TEST(Pipe, EndsAreCloseOnExec) {
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  EXPECT_TRUE(::fcntl(p->read.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(p->write.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(ForkWithPipe, ReaderSeesEofWhenTheChildExits) {
  ScopedAlarm watchdog(20s, "ForkWithPipe EOF test");
  auto pc = ForkWithPipe(ChildEnd::kWrite, [](sys::Fd& w) {
    return WriteAll(w.get(), std::as_bytes(std::span("hello", 5))) ? 0 : 1;
  });
  ASSERT_TRUE(pc) << pc.error().message();
  char buf[16];
  auto got = ReadExact(pc->fd.get(), std::as_writable_bytes(std::span(buf, 5)));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(std::string_view(buf, 5), "hello");
  auto eof = ReadSome(pc->fd.get(), std::as_writable_bytes(std::span(buf)), sys::Deadline::After(10s));
  ASSERT_TRUE(eof) << eof.error().message();
  EXPECT_EQ(*eof, 0u);
  EXPECT_TRUE(pc->child.WaitFor(10s)->ok());
}

TEST(ForkWithPipe, TheClassicHangIsRealWhenTheParentKeepsTheWriteEnd) {
  // The buggy twin of the test above: fork by hand and keep the write end in the parent.
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  auto c = Child::Fork([&] {
    p->read.reset();
    p->write.reset();
    return 0;
  });
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->WaitFor(10s)->ok());
  char b;
  auto r = ReadSome(p->read.get(), std::as_writable_bytes(std::span(&b, 1)), sys::Deadline::After(100ms));
  ASSERT_FALSE(r) << "EOF although a write end is still open";
  EXPECT_EQ(r.error().err, ETIMEDOUT);
}

TEST(PipeIo, SigpipeBecomesEpipeAndIsConsumed) {
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  p->read.reset();
  auto r = WriteAll(p->write.get(), std::as_bytes(std::span("x", 1)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EPIPE);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(PipeIo, ReadExactDistinguishesCleanEofFromATruncatedMessage) {
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  ASSERT_TRUE(WriteAll(p->write.get(), std::as_bytes(std::span("abc", 3))));
  p->write.reset();
  std::byte buf[8];
  auto r = ReadExact(p->read.get(), buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ECONNRESET);
  EXPECT_NE(r.error().message().find("3 of 8"), std::string::npos) << r.error().message();
  auto clean = ReadExact(p->read.get(), buf);
  ASSERT_TRUE(clean);
  EXPECT_FALSE(*clean);
}

TEST(PipeIo, WriteWithDeadlineTimesOutOnAFullPipe) {
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  std::vector<std::byte> big(1 << 20);
  auto r = WriteAll(p->write.get(), big, sys::Deadline::After(50ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ETIMEDOUT);
}

// Several forked writers send messages through one pipe; every message arrives whole, each
// writer's in order. `max_len` decides whether they are atomic records or chunked.
void ManyWriters(int writers, int per_writer, size_t min_len, size_t max_len) {
  ScopedAlarm watchdog(60s, "many writers over one pipe");
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  std::vector<Child> children;
  for (int w = 0; w < writers; ++w) {
    auto c = Child::Fork([&, w] {
      p->read.reset();
      PipeWriter out(p->write.get(), 1000 + w);
      std::mt19937 rng(w);
      for (int i = 0; i < per_writer; ++i) {
        size_t len = min_len + rng() % (max_len - min_len + 1);
        if (!out.Send(MakeMessage(1000 + w, i, len))) return 1;
      }
      return 0;
    });
    ASSERT_TRUE(c);
    children.push_back(std::move(*c));
  }
  p->write.reset();
  PipeReader in(p->read.get());
  std::map<uint32_t, uint32_t> next;
  int total = 0;
  for (;;) {
    auto m = in.Receive(sys::Deadline::After(30s));
    ASSERT_TRUE(m) << m.error().message();
    if (!*m) break;
    auto [writer, seq] = CheckMessage(**m);
    EXPECT_EQ(seq, next[writer]) << "writer " << writer << " out of order";
    next[writer] = seq + 1;
    ++total;
  }
  EXPECT_EQ(total, writers * per_writer);
  for (auto& c : children) EXPECT_TRUE(c.WaitFor(10s)->ok());
}

TEST(PipeMessages, AtomicRecordsFromManyWritersNeverInterleave) {
  ManyWriters(4, 400, 12, kAtomicPayload);
}

TEST(PipeMessages, ChunkedMessagesFromManyWritersAreReassembled) {
  ManyWriters(3, 40, kAtomicPayload + 1, 40'000);
}

TEST(PipeMessages, EmptyMessageIsAMessage) {
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  PipeWriter w(p->write.get());
  ASSERT_TRUE(w.Send({}));
  p->write.reset();
  PipeReader r(p->read.get());
  auto m = r.Receive();
  ASSERT_TRUE(m && *m);
  EXPECT_TRUE((*m)->empty());
  auto eof = r.Receive();
  ASSERT_TRUE(eof);
  EXPECT_FALSE(*eof);
}

TEST(PipeMessages, GarbageIsRefusedAndTheReaderStaysFailed) {
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  std::vector<std::byte> junk(64, std::byte{0x41});
  ASSERT_TRUE(WriteAll(p->write.get(), junk));
  PipeReader r(p->read.get());
  auto m = r.Receive(sys::Deadline::After(5s));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, EPROTO);
  EXPECT_FALSE(r.Receive(sys::Deadline::After(5s)));
}

TEST(PipeMessages, OversizedMessageIsRefusedByTheReader) {
  auto p = sys::MakePipe(O_NONBLOCK);
  ASSERT_TRUE(p);
  std::thread writer([&] {
    PipeWriter w(p->write.get());
    (void)w.Send(std::vector<std::byte>(20'000), sys::Deadline::After(10s));
  });
  PipeReader r(p->read.get(), 10'000);
  auto m = r.Receive(sys::Deadline::After(10s));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, EMSGSIZE);
  p->read.reset();
  writer.join();
}

TEST(PipeMessages, WriterKilledMidMessageIsAnErrorNotAHang) {
  ScopedAlarm watchdog(30s, "killed writer test");
  auto pc = ForkWithPipe(ChildEnd::kWrite, [](sys::Fd& w) {
    PipeWriter out(w.get(), 7);
    // Two whole messages, then death: the reader gets both, then a clean EOF.
    auto big = MakeMessage(7, 0, 3 * kAtomicPayload);
    (void)out.Send(MakeMessage(7, 0, 100));
    (void)out.Send(big);
    ::raise(SIGKILL);
    return 0;
  });
  ASSERT_TRUE(pc);
  ASSERT_FALSE(pc->child.WaitFor(10s)->exited);  // died by SIGKILL after writing everything
  PipeReader r(pc->fd.get());
  auto first = r.Receive(sys::Deadline::After(5s));
  ASSERT_TRUE(first && *first);
  auto second = r.Receive(sys::Deadline::After(5s));
  ASSERT_TRUE(second && *second);  // the long one arrived whole before the death
  auto eof = r.Receive(sys::Deadline::After(5s));
  ASSERT_TRUE(eof);
  EXPECT_FALSE(*eof);

  // Now a writer that dies between chunks: planted by writing only a first record by hand.
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  {
    std::vector<std::byte> rec(kRecordHeaderSize + 10);
    rec[0] = rec[1] = std::byte{0x50};
    rec[2] = std::byte{1};  // first, not last
    rec[4] = std::byte{10};
    rec[8] = std::byte{9};
    ASSERT_TRUE(WriteAll(p->write.get(), rec));
    p->write.reset();
  }
  PipeReader broken(p->read.get());
  auto cut = broken.Receive(sys::Deadline::After(5s));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().err, ECONNRESET);
  EXPECT_NE(cut.error().message().find("writer 9"), std::string::npos) << cut.error().message();
}

TEST(PipeMessages, ReaderKilledGivesTheWriterEpipeNotDeath) {
  ScopedAlarm watchdog(30s, "killed reader test");
  auto pc = ForkWithPipe(ChildEnd::kRead, [](sys::Fd&) {
    ::raise(SIGKILL);
    return 0;
  });
  ASSERT_TRUE(pc);
  (void)pc->child.WaitFor(10s);
  PipeWriter w(pc->fd.get());
  auto r = w.Send(std::vector<std::byte>(100));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EPIPE);
}

TEST(PipeMessages, SignalStormLosesAndDuplicatesNothing) {
  ScopedAlarm watchdog(60s, "pipe signal storm");
  auto h = ScopedHandler::Noop(SIGUSR1, Restart::kNo);  // inherited by the child
  ASSERT_TRUE(h);
  constexpr int kMessages = 2000;
  auto pc = ForkWithPipe(ChildEnd::kWrite, [](sys::Fd& w) {
    PipeWriter out(w.get(), 5);
    for (int i = 0; i < kMessages; ++i) {
      if (!out.Send(MakeMessage(5, i, 1 + (i * 977) % 9000))) return 1;
    }
    return 0;
  });
  ASSERT_TRUE(pc);
  std::atomic<bool> reading{false};
  std::atomic<bool> storm_over{false};
  int got = 0;
  std::thread reader([&] {
    PipeReader in(pc->fd.get());
    reading = true;
    for (;;) {
      auto m = in.Receive();
      if (!m) ADD_FAILURE() << m.error().message();
      if (!m || !*m) break;
      auto [writer, seq] = CheckMessage(**m);
      EXPECT_EQ(seq, uint32_t(got));
      ++got;
    }
    // pthread_kill on a finished thread is undefined: stay alive until the storm is over.
    while (!storm_over) std::this_thread::sleep_for(1ms);
  });
  while (!reading) std::this_thread::yield();
  auto at_child = SignalStorm::AtProcess(pc->child.pid(), SIGUSR1, 3000);
  auto at_reader = SignalStorm::AtThread(reader.native_handle(), SIGUSR1, 3000);
  auto st = pc->child.WaitFor(30s);
  at_child.Stop();
  at_reader.Join();
  storm_over = true;
  reader.join();
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok()) << st->Describe();
  EXPECT_EQ(got, kMessages);
}

TEST(Fifo, OpenSemantics) {
  ScopedAlarm watchdog(30s, "FIFO open semantics");
  auto dir = audit::PrivateDir::Create("fifo");
  ASSERT_TRUE(dir);
  auto path = MakeFifo(*dir, "f");
  ASSERT_TRUE(path) << path.error().message();
  // No reader: a non-blocking writer open is ENXIO; with a short deadline, ETIMEDOUT.
  auto now = OpenFifoWriter(*path, sys::Deadline::After(0ms));
  ASSERT_FALSE(now);
  EXPECT_EQ(now.error().err, ENXIO);
  auto later = OpenFifoWriter(*path, sys::Deadline::After(30ms));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().err, ETIMEDOUT);
  // A non-blocking reader opens at once; then a writer can open.
  auto r = OpenFifoReader(*path, FifoOpen::kNonBlock);
  ASSERT_TRUE(r) << r.error().message();
  auto w = OpenFifoWriter(*path, sys::Deadline::After(5s));
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_FALSE(::fcntl(w->get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(w->get(), F_GETFD) & FD_CLOEXEC);
  PipeWriter out(w->get());
  ASSERT_TRUE(out.Send(std::as_bytes(std::span("fifo", 4))));
  PipeReader in(r->get());
  auto m = in.Receive(sys::Deadline::After(5s));
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->size(), 4u);
}

TEST(Fifo, BlockingReaderOpenWaitsForAWriterAndSurvivesSignals) {
  ScopedAlarm watchdog(30s, "FIFO blocking open");
  auto h = ScopedHandler::Noop(SIGUSR1, Restart::kNo);
  ASSERT_TRUE(h);
  auto dir = audit::PrivateDir::Create("fifo");
  ASSERT_TRUE(dir);
  auto path = MakeFifo(*dir, "f");
  ASSERT_TRUE(path);
  auto writer = Child::Fork([&] {
    ::usleep(100'000);  // the parent is blocked in open() meanwhile
    auto w = OpenFifoWriter(*path, sys::Deadline::After(10s));
    if (!w) return 1;
    PipeWriter out(w->get());
    return out.Send(std::as_bytes(std::span("hi", 2))) ? 0 : 2;
  });
  ASSERT_TRUE(writer);
  auto storm = SignalStorm::AtThread(pthread_self(), SIGUSR1, 200);
  auto r = OpenFifoReader(*path, FifoOpen::kBlock);
  storm.Stop();
  ASSERT_TRUE(r) << r.error().message();
  PipeReader in(r->get());
  auto m = in.Receive(sys::Deadline::After(10s));
  ASSERT_TRUE(m && *m) << (m ? "eof" : m.error().message());
  EXPECT_EQ((*m)->size(), 2u);
  EXPECT_TRUE(writer->WaitFor(10s)->ok());
}

}  // namespace
}  // namespace ipc::pipe
