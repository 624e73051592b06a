#include "ipc/audit/names.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "ipc/audit/leaks.h"

namespace ipc::audit {
namespace {

TEST(Names, CarryPrefixSessionPidRandomAndPurpose) {
  auto n = UniqueName("ring");
  ASSERT_TRUE(n.has_value());
  auto p = ParseName(*n);
  ASSERT_TRUE(p.has_value()) << *n;
  EXPECT_EQ(p->pid, ::getpid());
  EXPECT_EQ(p->purpose, "ring");
  EXPECT_EQ(p->random.size(), 12u);
  EXPECT_TRUE(n->starts_with("ipclab."));
  auto posix = PosixName("mq");
  ASSERT_TRUE(posix.has_value());
  EXPECT_TRUE(posix->starts_with("/ipclab."));
  EXPECT_TRUE(ParseName(*posix).has_value());
}

TEST(Names, AreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(seen.insert(*UniqueName("x")).second);
}

TEST(Names, RefuseBadPurposes) {
  for (std::string_view bad : {"", "UPPER", "has space", "slash/", "dot.ted",
                               "a-very-long-purpose-name-over-32-chars"}) {
    auto n = UniqueName(bad);
    ASSERT_FALSE(n.has_value()) << bad;
    EXPECT_EQ(n.error().err, EINVAL);
  }
}

TEST(Names, ParseRejectsForeignNames) {
  for (std::string_view s : {"", "ipclab", "ipclab.", "ipclab.12", "ipclab.x.0123456789ab.p",
                             "ipclab.12.0123456789ab.", "ipclab.12.0123.p", "other.12.0123456789ab.p",
                             "ipclab.-1.0123456789ab.p", "ipclab.12.0123456789AB.p"}) {
    EXPECT_FALSE(ParseName(s).has_value()) << s;
  }
  auto sem = ParseName("sem.ipclab.77.0123456789ab.lock");
  ASSERT_TRUE(sem.has_value());
  EXPECT_EQ(sem->pid, 77);
}

TEST(Names, ForkedChildKeepsTheSessionPid) {
  pid_t session = SessionPid();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto n = UniqueName("child");
    auto p = ParseName(*n);
    char ok = (p && p->pid == session) ? 'y' : 'n';
    (void)!::write(fds[1], &ok, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(fds[0], &ok, 1), 1);
  ::waitpid(child, nullptr, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(ok, 'y');
}

TEST(PrivateDir, IsPrivateAndRemovedWithItsContents) {
  std::string path;
  {
    auto d = PrivateDir::Create("fifo");
    ASSERT_TRUE(d.has_value()) << d.error().message();
    path = d->path();
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    int fd = ::open(d->file("inner").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_EQ(::mkdir(d->file("sub").c_str(), 0700), 0);
  }
  struct stat st{};
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

TEST(Leaks, SeesOurSegmentUntilItIsRemoved) {
  auto name = PosixName("audit");
  ASSERT_TRUE(name.has_value());
  int fd = ::shm_open(name->c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto ours = ListSessionObjects(SessionPid());
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_EQ(ours[0].kind, IpcObject::Kind::kPosixShm);
  EXPECT_EQ(ours[0].name, *name);
  EXPECT_TRUE(ours[0].session_alive);
  EXPECT_NE(Describe(ours[0]).find("posix-shm /ipclab."), std::string::npos);
  ASSERT_TRUE(Remove(ours[0]).has_value());
  EXPECT_TRUE(ListSessionObjects(SessionPid()).empty());
}

}  // namespace
}  // namespace ipc::audit
