#include "ipc/shm/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"
#include "ipc/testing/process.h"

namespace ipc::shm {
namespace {

using testing::ExitCode;
using testing::ForkChild;
using testing::Watchdog;

// One contract, three back-ends.
struct PosixBackend {
  static constexpr Segment::Kind kKind = Segment::Kind::kPosix;
  std::optional<audit::PrivateDir> dir;  // unused
  sys::Result<Segment> Create(std::size_t payload, CreateOptions o = {}) {
    return Segment::CreatePosix("segtest", payload, o);
  }
  sys::Result<Segment> Attach(const Segment& s, AttachOptions o = {}) {
    return Segment::AttachPosix(s.name(), o);
  }
  // Rewrites the object's size behind the segment's back, as a hostile peer could.
  void Truncate(const Segment& s, off_t size) {
    int fd = ::shm_open(s.name().c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, size), 0);
    ::close(fd);
  }
};

struct SysvBackend {
  static constexpr Segment::Kind kKind = Segment::Kind::kSysv;
  sys::Result<Segment> Create(std::size_t payload, CreateOptions o = {}) {
    return Segment::CreateSysv("segtest", payload, o);
  }
  sys::Result<Segment> Attach(const Segment& s, AttachOptions o = {}) {
    return Segment::AttachSysv(s.sysv_id(), o);
  }
  void Truncate(const Segment&, off_t) { GTEST_SKIP() << "System V segments cannot be resized"; }
};

struct FileBackend {
  static constexpr Segment::Kind kKind = Segment::Kind::kFile;
  std::unique_ptr<audit::PrivateDir> dir;
  int n = 0;
  sys::Result<Segment> Create(std::size_t payload, CreateOptions o = {}) {
    if (!dir) dir = std::make_unique<audit::PrivateDir>(*audit::PrivateDir::Create("segtest"));
    return Segment::CreateFile(dir->file("seg" + std::to_string(n++)), payload, o);
  }
  sys::Result<Segment> Attach(const Segment& s, AttachOptions o = {}) {
    return Segment::AttachFile(s.name(), o);
  }
  void Truncate(const Segment& s, off_t size) { ASSERT_EQ(::truncate(s.name().c_str(), size), 0); }
};

template <class B>
class SegmentTest : public ::testing::Test {
 protected:
  B backend;
};
using Backends = ::testing::Types<PosixBackend, SysvBackend, FileBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::string(KindName(T::kKind));
  }
};
TYPED_TEST_SUITE(SegmentTest, Backends, BackendNames);

TYPED_TEST(SegmentTest, CreatorOwnsHeaderAndPayload) {
  auto seg = this->backend.Create(10000, {.layout = LayoutTag("TEST")});
  ASSERT_TRUE(seg.has_value()) << seg.error().message();
  EXPECT_TRUE(seg->owner());
  EXPECT_EQ(seg->kind(), TypeParam::kKind);
  EXPECT_EQ(seg->bytes().size(), kHeaderSize + 10000);
  EXPECT_EQ(seg->payload().size(), 10000u);
  EXPECT_EQ(seg->header().layout, LayoutTag("TEST"));
  EXPECT_EQ(seg->header().creator_pid, ::getpid());
  EXPECT_TRUE(ValidateHeader(seg->bytes()).has_value());
}

TYPED_TEST(SegmentTest, ChildWritesParentReads) {
  Watchdog dog(std::chrono::seconds(20), "segment child write");
  auto seg = this->backend.Create(1 << 16);
  ASSERT_TRUE(seg.has_value()) << seg.error().message();
  auto child = ForkChild([&] {
    auto mine = this->backend.Attach(*seg);
    if (!mine || mine->owner()) return 2;
    auto p = mine->payload();
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::byte(i * 7 + 3);
    return mine->Sync().has_value() ? 0 : 3;
  });
  ASSERT_TRUE(child.has_value());
  auto st = child->Wait();
  ASSERT_TRUE(st.has_value());
  ASSERT_EQ(ExitCode(*st), 0);
  auto p = seg->payload();
  for (std::size_t i = 0; i < p.size(); ++i) ASSERT_EQ(p[i], std::byte(i * 7 + 3)) << i;
}

TYPED_TEST(SegmentTest, AttacherOnlyMapsAndCreatorRemoves) {
  std::string name;
  {
    auto seg = this->backend.Create(64);
    ASSERT_TRUE(seg.has_value());
    name = seg->name();
    {
      auto a = this->backend.Attach(*seg);
      ASSERT_TRUE(a.has_value()) << a.error().message();
      EXPECT_FALSE(a->owner());
      EXPECT_EQ(a->header().size, seg->header().size);
    }  // the attacher goes; the object stays
    auto again = this->backend.Attach(*seg);
    ASSERT_TRUE(again.has_value()) << again.error().message();
  }
  // The creator went: the object is gone (the test main also checks nothing leaked).
  EXPECT_TRUE(audit::ListSessionObjects(audit::SessionPid()).empty() ||
              TypeParam::kKind == Segment::Kind::kFile);
}

TYPED_TEST(SegmentTest, LayoutMismatchIsRefused) {
  auto seg = this->backend.Create(64, {.layout = LayoutTag("SPSC")});
  ASSERT_TRUE(seg.has_value());
  auto a = this->backend.Attach(*seg, {.expect = {LayoutTag("MPMC"), 0}});
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().err, EPROTO);
  EXPECT_NE(a.error().message().find(seg->name()), std::string::npos) << a.error().message();
}

TYPED_TEST(SegmentTest, CorruptHeaderIsRejectedClearly) {
  auto seg = this->backend.Create(256);
  ASSERT_TRUE(seg.has_value());
  seg->bytes()[20] ^= std::byte{0xff};  // the layout tag: checksum no longer holds
  auto a = this->backend.Attach(*seg);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().err, EBADMSG);
  EXPECT_NE(a.error().message().find("checksum"), std::string::npos) << a.error().message();
}

TYPED_TEST(SegmentTest, TruncatedSegmentIsRejectedClearly) {
  auto seg = this->backend.Create(4096);
  ASSERT_TRUE(seg.has_value());
  for (off_t size : {off_t{1000}, off_t{40}, off_t{0}}) {
    this->backend.Truncate(*seg, size);
    if (this->IsSkipped()) return;
    auto a = this->backend.Attach(*seg);
    ASSERT_FALSE(a.has_value()) << size;
    EXPECT_EQ(a.error().err, EBADMSG);
    EXPECT_TRUE(a.error().detail.find("smaller than") != std::string::npos ||
                a.error().detail.find("truncated") != std::string::npos)
        << a.error().message();
  }
}

TYPED_TEST(SegmentTest, AnotherUidIsDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another uid";
  Watchdog dog(std::chrono::seconds(20), "permission check");
  auto seg = this->backend.Create(64);
  ASSERT_TRUE(seg.has_value());
  auto child = ForkChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 2;
    auto a = this->backend.Attach(*seg);
    if (a.has_value()) return 3;
    return a.error().err == EACCES ? 0 : 4;
  });
  ASSERT_TRUE(child.has_value());
  auto st = child->Wait();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(ExitCode(*st), 0) << "2: could not drop privileges, 3: attached, 4: other error";
}

TEST(Segment, NamesFollowTheScheme) {
  auto seg = Segment::CreatePosix("named", 8);
  ASSERT_TRUE(seg.has_value());
  auto parsed = audit::ParseName(seg->name());
  ASSERT_TRUE(parsed.has_value()) << seg->name();
  EXPECT_EQ(parsed->purpose, "named");
  EXPECT_EQ(Segment::CreatePosix("Bad Name", 8).error().err, EINVAL);
}

TEST(Segment, SysvSegmentIsRegisteredWhileItLives) {
  auto seg = Segment::CreateSysv("registered", 8);
  ASSERT_TRUE(seg.has_value());
  auto ours = audit::ListSessionObjects(audit::SessionPid());
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_EQ(ours[0].kind, audit::IpcObject::Kind::kSysvShm);
  EXPECT_EQ(ours[0].sysv_id, seg->sysv_id());
  ASSERT_TRUE(seg->Remove().has_value());
  EXPECT_TRUE(audit::ListSessionObjects(audit::SessionPid()).empty());
}

TEST(Segment, MappedFileCopyOnWriteStaysPrivate) {
  auto dir = audit::PrivateDir::Create("cow");
  ASSERT_TRUE(dir.has_value());
  auto seg = Segment::CreateFile(dir->file("data"), 4096);
  ASSERT_TRUE(seg.has_value());
  std::memset(seg->payload().data(), 'a', 4096);
  ASSERT_TRUE(seg->Sync().has_value());
  auto cow = Segment::AttachFile(seg->name(), {.copy_on_write = true});
  ASSERT_TRUE(cow.has_value()) << cow.error().message();
  EXPECT_EQ(cow->payload()[0], std::byte{'a'});
  cow->payload()[0] = std::byte{'z'};  // private copy
  EXPECT_EQ(seg->payload()[0], std::byte{'a'});
  auto shared = Segment::AttachFile(seg->name());
  ASSERT_TRUE(shared.has_value());
  shared->payload()[1] = std::byte{'y'};  // visible to every shared mapping
  EXPECT_EQ(seg->payload()[1], std::byte{'y'});
  ASSERT_TRUE(shared->Sync().has_value());
  int fd = ::open(seg->name().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char buf[2];
  ASSERT_EQ(::pread(fd, buf, 2, kHeaderSize), 2);
  ::close(fd);
  EXPECT_EQ(buf[0], 'a');
  EXPECT_EQ(buf[1], 'y');
}

TEST(Segment, CreateIsExclusive) {
  auto dir = audit::PrivateDir::Create("excl");
  ASSERT_TRUE(dir.has_value());
  auto a = Segment::CreateFile(dir->file("x"), 8);
  ASSERT_TRUE(a.has_value());
  auto b = Segment::CreateFile(dir->file("x"), 8);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().err, EEXIST);
}

TEST(Segment, AttachToMissingObjectNamesIt) {
  auto a = Segment::AttachPosix("/ipclab.1.000000000000.missing");
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().err, ENOENT);
  EXPECT_NE(a.error().message().find("missing"), std::string::npos);
  EXPECT_FALSE(Segment::AttachSysv(0x7ffffff0).has_value());
}

}  // namespace
}  // namespace ipc::shm
