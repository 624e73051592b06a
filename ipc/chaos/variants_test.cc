// The `_chaos` variants of the ipc libraries have their points compiled in: with a hook installed,
// using them reaches the named points (this test is compiled with IPCLAB_CHAOS and links those
// variants; the plain libraries, whose callers are compiled without it, have none).
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipc/chaos/chaos.h"
#include "ipc/pipe/pipe.h"
#include "ipc/ring/mpmc_buffer.h"
#include "ipc/ring/spsc_ring.h"
#include "ipc/shm/segment.h"
#include "ipc/socket/socket.h"
#include "ipc/sync/robust_mutex.h"
#include "ipc/sys/fd.h"

namespace ipc::chaos {
namespace {

std::mutex g_mu;  // points are reached from the tests' helper threads too
std::set<std::string> g_noise, g_crash;
void Record(const char* name, PointKind kind) {
  std::lock_guard<std::mutex> lock(g_mu);
  (kind == PointKind::kCrash ? g_crash : g_noise).insert(name);
}

class ChaosVariants : public ::testing::Test {
 protected:
  void SetUp() override {
    std::lock_guard<std::mutex> lock(g_mu);
    g_noise.clear();
    g_crash.clear();
    SetHook(&Record);
  }
  void TearDown() override { SetHook(nullptr); }
};

// Lock's success is a run-time result the analysis cannot follow.
void LockAndUnlock(sync::RobustMutex& m) IPC_NO_THREAD_SAFETY_ANALYSIS {
  sync::LockOutcome out;
  ASSERT_TRUE(m.Lock(out));
  m.Unlock();
}

TEST_F(ChaosVariants, RobustMutexAcquire) {
  auto seg = shm::Segment::CreatePosix("chaos-mutex", sizeof(sync::RobustMutex));
  ASSERT_TRUE(seg.has_value()) << seg.error().message();
  auto* m = new (seg->payload().data()) sync::RobustMutex;
  ASSERT_TRUE(m->Init().has_value());
  LockAndUnlock(*m);
  EXPECT_TRUE(g_noise.count("sync.robust_mutex.before_lock"));
  EXPECT_TRUE(g_crash.count("sync.robust_mutex.acquired"));
  (void)m->Destroy();
  (void)seg->Remove();
}

TEST_F(ChaosVariants, MpmcCommitAndRelease) {
  std::size_t bytes = ring::MpmcBuffer::BytesFor(4, 64);
  auto seg = shm::Segment::CreatePosix("chaos-mpmc", bytes);
  ASSERT_TRUE(seg.has_value()) << seg.error().message();
  ASSERT_TRUE(ring::MpmcBuffer::Init(seg->payload(), 4, 64).has_value());
  auto buf = ring::MpmcBuffer::Attach(seg->payload());
  ASSERT_TRUE(buf.has_value());
  std::vector<std::byte> msg(16, std::byte{7}), got(64);
  ASSERT_TRUE(buf->Send(msg).has_value());
  ASSERT_TRUE(buf->TryReceive(got).has_value());
  EXPECT_TRUE(g_crash.count("ring.mpmc.before_commit"));
  EXPECT_TRUE(g_crash.count("ring.mpmc.before_release"));
  (void)seg->Remove();
}

TEST_F(ChaosVariants, SpscCommit) {
  alignas(64) static std::byte memory[ring::SpscRing<>::BytesFor(1024)];
  ASSERT_TRUE(ring::SpscRing<>::Init(memory, 1024).has_value());
  auto tx = ring::SpscProducer<>::Attach(memory);
  auto rx = ring::SpscConsumer<>::Attach(memory);
  ASSERT_TRUE(tx.has_value() && rx.has_value());
  std::vector<std::byte> msg(8, std::byte{1}), got(64);
  ASSERT_TRUE(tx->TrySend(msg).has_value());
  ASSERT_TRUE(rx->TryReceive(got).has_value());
  EXPECT_TRUE(g_crash.count("ring.spsc.before_commit"));
  EXPECT_TRUE(g_crash.count("ring.spsc.before_release"));
}

TEST_F(ChaosVariants, PipeFraming) {
  auto ends = sys::MakePipe();
  ASSERT_TRUE(ends.has_value());
  pipe::PipeWriter writer(ends->write.get());
  pipe::PipeReader reader(ends->read.get());
  std::vector<std::byte> msg(pipe::kAtomicPayload + 10, std::byte{3});  // two records
  std::thread drain([&] { (void)reader.Receive(); });
  ASSERT_TRUE(writer.Send(msg).has_value());
  drain.join();
  EXPECT_TRUE(g_crash.count("pipe.between_records"));
  EXPECT_TRUE(g_noise.count("pipe.message_complete"));
}

TEST_F(ChaosVariants, SocketFramingAndAccept) {
  auto addr = socket::UnixAddress::Abstract("chaos-accept");
  ASSERT_TRUE(addr.has_value()) << addr.error().message();
  auto listener = socket::Listen(*addr, socket::Kind::kStream);
  ASSERT_TRUE(listener.has_value()) << listener.error().message();
  auto client = socket::Connect(*addr, socket::Kind::kStream);
  ASSERT_TRUE(client.has_value()) << client.error().message();
  auto server = socket::Accept(listener->get(), sys::Deadline::After(std::chrono::seconds(10)));
  ASSERT_TRUE(server.has_value()) << server.error().message();
  EXPECT_TRUE(g_crash.count("socket.accept.accepted"));
  // A frame larger than the reader's 64 KiB buffer arrives in more than one read.
  std::vector<std::byte> payload(100'000, std::byte{5});
  std::thread send([&] { EXPECT_TRUE(socket::SendFrame(client->get(), 1, payload).has_value()); });
  socket::FrameReader reader(server->get());
  auto frame = reader.Next(sys::Deadline::After(std::chrono::seconds(10)));
  send.join();
  ASSERT_TRUE(frame.has_value() && frame->has_value());
  EXPECT_EQ((*frame)->payload.size(), payload.size());
  EXPECT_TRUE(g_crash.count("socket.frame.between_header_and_body"));
  EXPECT_TRUE(g_crash.count("socket.frame.mid_frame"));
}

}  // namespace
}  // namespace ipc::chaos
