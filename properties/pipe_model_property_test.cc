// Model-based (rc::state) property of the framed pipe (ipc::pipe::PipeWriter / PipeReader): random
// sequences of sends from three writers, receives and a final close, run against a real pipe and
// a model that is a byte queue with message boundaries (a deque of whole messages, plus what is
// torn). Message sizes favour the framing's edges (0, 4079, 4080, 4081, 8160 bytes: one record, a
// full record, two records, two full records).
//
// A multi-process command forks a peer writer that writes the first records of a chunked message
// (optionally a few bytes of the next record as well: a peer that does not write whole records)
// and is SIGKILLed by the parent mid-frame. The reader must never deliver its partial message;
// messages of the other writers still arrive whole and in order; once every write end is closed
// the reader reports ECONNRESET (a writer died mid-message), after the whole messages before it.
//
// The planted twin (properties/planted/planted_pipe.h: the end of a message inferred from a short
// record instead of the "last" flag) must be caught and shrunk to a short sequence. On failure
// rapidcheck prints the shrunk commands and an RC_PARAMS="reproduce=..." line that reruns it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ipc/pipe/io.h"
#include "ipc/pipe/pipe.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/fd.h"
#include "properties/planted/planted_pipe.h"

namespace {

using ipc::pipe::kAtomicPayload;
using ipc::pipe::kRecordHeaderSize;
using Message = std::vector<std::byte>;
using namespace std::chrono_literals;

// Bytes a message takes in the pipe: one 16-byte record header per chunk of kAtomicPayload.
std::size_t StreamBytes(std::size_t len) {
  std::size_t records = len == 0 ? 1 : (len + kAtomicPayload - 1) / kAtomicPayload;
  return records * kRecordHeaderSize + len;
}
// Never more unread than this in the pipe (its capacity is 64 KiB), so a send cannot block.
constexpr std::size_t kPipeBudget = 40 * 1024;

Message MessageOf(std::size_t len, std::uint32_t salt) {
  Message m(len);
  for (std::size_t i = 0; i < len; ++i) m[i] = std::byte(static_cast<std::uint8_t>(salt * 31 + i * 7 + i / 251));
  return m;
}

rc::Gen<std::size_t> MessageSize() {
  return rc::gen::oneOf(rc::gen::element<std::size_t>(0, 1, kAtomicPayload - 1, kAtomicPayload,
                                                      kAtomicPayload + 1, 2 * kAtomicPayload),
                        rc::gen::inRange<std::size_t>(0, 2 * kAtomicPayload + 200));
}

struct PipeModel {
  std::deque<Message> complete;  // whole messages in the pipe, in the order they will arrive
  int torn_writers = 0;          // peers that died between the records of a message
  bool torn_record = false;      // a peer died inside a record: the stream ends there
  bool closed = false;           // every write end closed
  std::size_t unread = 0;        // upper bound of the bytes in the pipe
};

class PipeSutBase {
 public:
  virtual ~PipeSutBase() = default;
  virtual ipc::sys::Result<std::optional<Message>> Receive(ipc::sys::Deadline deadline) = 0;

  PipeSutBase() {
    auto p = ipc::sys::MakePipe(O_CLOEXEC);
    if (!p) throw std::runtime_error(p.error().message());
    read_ = std::move(p->read);
    write_ = std::move(p->write);
    for (std::uint32_t id = 1; id <= 3; ++id) writers_.emplace(id, ipc::pipe::PipeWriter(write_.get(), id));
  }
  ipc::sys::Status Send(std::uint32_t writer, std::span<const std::byte> msg) {
    return writers_.at(writer).Send(msg, ipc::sys::Deadline::After(5s));
  }
  void CloseWriters() { write_.reset(); }

  // Forks a peer writer with its own writer id; it writes `records` whole records of `msg`'s
  // framing, then `extra` bytes of the next record, tells the parent, and waits to be killed.
  void KillPeerMidFrame(const Message& msg, std::size_t records, std::size_t extra) {
    std::uint32_t id = next_peer_id_++;
    // The exact bytes PipeWriter produces for this message, recorded through a scratch pipe.
    auto scratch = ipc::sys::MakePipe(O_CLOEXEC);
    RC_ASSERT(scratch.has_value());
    RC_ASSERT(ipc::pipe::PipeWriter(scratch->write.get(), id).Send(msg).has_value());
    Message stream(StreamBytes(msg.size()));
    auto got = ipc::pipe::ReadExact(scratch->read.get(), stream, ipc::sys::Deadline::After(5s));
    RC_ASSERT(got.has_value() && *got);
    std::vector<std::span<const std::byte>> pieces;
    std::size_t pos = 0;
    for (std::size_t r = 0; r < records; ++r) {
      std::size_t len = kRecordHeaderSize + std::min(kAtomicPayload, msg.size() - r * kAtomicPayload);
      pieces.push_back(std::span(stream).subspan(pos, len));
      pos += len;
    }
    if (extra > 0) pieces.push_back(std::span(stream).subspan(pos, extra));

    auto ready = ipc::sys::MakePipe(O_CLOEXEC);
    RC_ASSERT(ready.has_value());
    pid_t pid = ::fork();
    if (pid == 0) {
      // Async-signal-safe only: each record is one write(2), as PipeWriter does.
      for (auto piece : pieces) {
        if (::write(write_.get(), piece.data(), piece.size()) != static_cast<ssize_t>(piece.size())) _exit(3);
      }
      char one = 1;
      if (::write(ready->write.get(), &one, 1) != 1) _exit(4);
      for (;;) ::pause();
    }
    RC_ASSERT(pid > 0);
    ready->write.reset();
    std::byte one[1];
    auto told = ipc::pipe::ReadExact(ready->read.get(), one, ipc::sys::Deadline::After(10s));
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    RC_ASSERT(told.has_value() && *told);  // the peer wrote its records before it died
    RC_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }

 protected:
  ipc::sys::Fd read_, write_;

 private:
  std::map<std::uint32_t, ipc::pipe::PipeWriter> writers_;
  std::uint32_t next_peer_id_ = 100;
};

template <class Reader>
class PipeSut : public PipeSutBase {
 public:
  PipeSut() : reader_(read_.get()) {}
  ipc::sys::Result<std::optional<Message>> Receive(ipc::sys::Deadline deadline) override {
    return reader_.Receive(deadline);
  }

 private:
  Reader reader_;
};
using RealPipe = PipeSut<ipc::pipe::PipeReader>;
using PlantedPipe = PipeSut<properties::planted::LostBoundaryPipeReader>;

using Cmd = rc::state::Command<PipeModel, PipeSutBase>;

bool CanWrite(const PipeModel& m, std::size_t bytes) {
  return !m.closed && !m.torn_record && m.unread + bytes <= kPipeBudget;
}

struct Send : Cmd {
  std::uint32_t writer = *rc::gen::inRange<std::uint32_t>(1, 4);
  std::size_t size = *MessageSize();
  void checkPreconditions(const PipeModel& m) const override { RC_PRE(CanWrite(m, StreamBytes(size))); }
  void apply(PipeModel& m) const override {
    m.complete.push_back(MessageOf(size, writer));
    m.unread += StreamBytes(size);
  }
  void run(const PipeModel&, PipeSutBase& sut) const override {
    auto msg = MessageOf(size, writer);
    auto sent = sut.Send(writer, msg);
    RC_ASSERT(sent.has_value());
  }
  void show(std::ostream& os) const override { os << "Send(writer " << writer << ", " << size << " bytes)"; }
};

struct Receive : Cmd {
  void apply(PipeModel& m) const override {
    if (!m.complete.empty()) {
      m.unread -= StreamBytes(m.complete.front().size());
      m.complete.pop_front();
    }
  }
  void run(const PipeModel& m, PipeSutBase& sut) const override {
    // What the model expects is in the pipe already (or the pipe is closed): a receive that
    // should deliver cannot need long. An empty open pipe must time out, not invent a message.
    bool immediate = !m.complete.empty() || m.closed;
    auto r = sut.Receive(ipc::sys::Deadline::After(immediate ? 2s : 2ms));
    if (!m.complete.empty()) {
      RC_ASSERT(r.has_value());
      RC_ASSERT(r->has_value());
      RC_ASSERT(**r == m.complete.front());
    } else if (!m.closed) {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == ETIMEDOUT);
    } else if (m.torn_writers > 0 || m.torn_record) {
      RC_ASSERT(!r.has_value());  // never the partial message as if it were whole
      RC_ASSERT(r.error().err == ECONNRESET);
    } else {
      RC_ASSERT(r.has_value());
      RC_ASSERT(!r->has_value());  // clean end of file
    }
  }
  void show(std::ostream& os) const override { os << "Receive"; }
};

// A forked peer writer dies (SIGKILL from the parent) in the middle of a chunked message.
struct KillPeerMidFrame : Cmd {
  std::size_t size = *rc::gen::inRange<std::size_t>(kAtomicPayload + 1, 3 * kAtomicPayload);
  std::size_t records = *rc::gen::inRange<std::size_t>(1, (size + kAtomicPayload - 1) / kAtomicPayload);
  // Bytes of the next record: fewer than all of it, or the peer would have finished the message
  // (4081 bytes killed after 1 record + 17 bytes is a whole message, not a torn one).
  std::size_t next_record = kRecordHeaderSize + std::min(kAtomicPayload, size - records * kAtomicPayload);
  std::size_t extra = *rc::gen::oneOf(
      rc::gen::just<std::size_t>(0),
      rc::gen::inRange<std::size_t>(1, std::min(next_record, kRecordHeaderSize + 40)));
  std::size_t Written() const { return records * (kRecordHeaderSize + kAtomicPayload) + extra; }
  void checkPreconditions(const PipeModel& m) const override { RC_PRE(CanWrite(m, Written())); }
  void apply(PipeModel& m) const override {
    m.unread += Written();
    if (extra > 0) {
      m.torn_record = true;
    } else {
      ++m.torn_writers;
    }
  }
  void run(const PipeModel&, PipeSutBase& sut) const override {
    sut.KillPeerMidFrame(MessageOf(size, 99), records, extra);
  }
  void show(std::ostream& os) const override {
    os << "KillPeerMidFrame(" << size << " bytes, killed after " << records << " records + " << extra
       << " bytes)";
  }
};

struct CloseWriters : Cmd {
  void checkPreconditions(const PipeModel& m) const override { RC_PRE(!m.closed); }
  void apply(PipeModel& m) const override { m.closed = true; }
  void run(const PipeModel&, PipeSutBase& sut) const override { sut.CloseWriters(); }
  void show(std::ostream& os) const override { os << "CloseWriters"; }
};

std::size_t g_last_failing_length = 0;

template <class SutT, class... Cmds>
void RunSequence() {
  PipeModel model;
  auto cmds = *rc::state::gen::commands(model, rc::state::gen::execOneOfWithArgs<Cmds...>());
  SutT sut;
  try {
    rc::state::runAll(cmds, model, sut);
  } catch (...) {
    g_last_failing_length = cmds.size();
    throw;
  }
}

RC_GTEST_PROP(PipeModel, FramedPipeIsAByteQueueWithMessageBoundaries, ()) {
  RunSequence<RealPipe, Send, Send, Receive, CloseWriters>();
}

TEST(PipeModel, PeerKilledMidFrameIsReportedNeverDeliveredWhole) {
  EXPECT_TRUE(rc::check("framed pipe with peer writers killed mid-frame", [] {
    RunSequence<RealPipe, Send, Send, Receive, KillPeerMidFrame, CloseWriters>();
  }));
}

TEST(PipeModel, FindsPlantedLostFrameBoundaryAndShrinksIt) {
  g_last_failing_length = 0;
  bool passed = rc::check("planted lost frame boundary",
                          [] { RunSequence<PlantedPipe, Send, Send, Receive, CloseWriters>(); });
  EXPECT_FALSE(passed) << "the property missed the planted lost frame boundary";
  // The smallest failure is Send(4080 bytes), Receive: two commands.
  std::cout << "shrunk counterexample: " << g_last_failing_length << " commands\n";
  EXPECT_GT(g_last_failing_length, 0u);
  EXPECT_LE(g_last_failing_length, 3u) << "counterexample not shrunk";
}

}  // namespace
