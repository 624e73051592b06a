#include "ipc/audit/registry.h"

#include <fcntl.h>
#include <cstdio>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "ipc/audit/leaks.h"
#include "ipc/audit/leaks_command.h"
#include "ipc/audit/names.h"

namespace ipc::audit {
namespace {

bool Exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

int NewShm() { return ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600); }

// A pid that ran and is gone (reaped), as a crashed session's pid would be.
pid_t DeadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

std::vector<IpcObject> OursOfKind(IpcObject::Kind kind, int id) {
  std::vector<IpcObject> out;
  for (auto& o : ListSessionObjects(SessionPid())) {
    if (o.kind == kind && o.sysv_id == id) out.push_back(o);
  }
  return out;
}

TEST(SysvEntryName, RoundTripsAndRejectsGarbage) {
  SysvEntry e{SysvKind::kSem, 32769, 1764676800, 4026531839ull, 4242, "ring"};
  auto name = SysvEntryName(e);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(*name, "sem.32769.1764676800.4026531839.4242.ring");
  auto back = ParseSysvEntryName(*name);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, SysvKind::kSem);
  EXPECT_EQ(back->id, 32769);
  EXPECT_EQ(back->ctime, 1764676800);
  EXPECT_EQ(back->ipc_namespace, 4026531839ull);
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->purpose, "ring");
  for (const char* bad : {"", "shm", "foo.1.2.3.4.ring", "shm.x.2.3.4.ring", "shm.1.2.3.0.ring",
                          "shm.1.2.3.4.", "shm.1.2.3.4.Ring", "shm.-1.2.3.4.ring",
                          "shm.1.2.3.4.a.b"}) {
    EXPECT_FALSE(ParseSysvEntryName(bad).has_value()) << bad;
  }
  e.purpose = "Bad Purpose";
  EXPECT_EQ(SysvEntryName(e).error().err, EINVAL);
  // The registry's home never looks like a POSIX ipclab object to the leak scan or tools/test.
  std::string dir = SysvRegistryDir();
  std::string base = dir.substr(dir.rfind('/') + 1);
  EXPECT_FALSE(ParseName(base).has_value());
  EXPECT_FALSE(base.starts_with("ipclab.") || base.starts_with("sem.ipclab."));
}

TEST(Registry, EntryExistsExactlyWhileRegistered) {
  int id = NewShm();
  ASSERT_GE(id, 0);
  ASSERT_TRUE(RegisterSysv(SysvKind::kShm, id, "registry").has_value());
  auto again = RegisterSysv(SysvKind::kShm, id, "registry");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().err, EEXIST);

  auto listed = OursOfKind(IpcObject::Kind::kSysvShm, id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, std::to_string(id));
  EXPECT_TRUE(listed[0].session_alive);
  EXPECT_EQ(listed[0].purpose, "registry");
  EXPECT_TRUE(Exists(listed[0].registry_entry));
  EXPECT_NE(Describe(listed[0]).find("sysv-shm " + std::to_string(id)), std::string::npos);

  ASSERT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);
  ASSERT_TRUE(UnregisterSysv(SysvKind::kShm, id).has_value());
  EXPECT_FALSE(Exists(listed[0].registry_entry));
  EXPECT_EQ(UnregisterSysv(SysvKind::kShm, id).error().err, ENOENT);
  EXPECT_TRUE(OursOfKind(IpcObject::Kind::kSysvShm, id).empty());
}

TEST(Registry, RefusesObjectsThatDoNotExist) {
  auto r = RegisterSysv(SysvKind::kMsg, 0x7ffffff0, "registry");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().err == EINVAL || r.error().err == EIDRM) << r.error().message();
  EXPECT_EQ(RegisterSysv(SysvKind::kShm, 1, "Not Valid").error().err, EINVAL);
}

TEST(Registry, RemoveTakesEveryKindAndItsEntry) {
  int shm = NewShm();
  int sem = ::semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  int msg = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  ASSERT_GE(shm, 0);
  ASSERT_GE(sem, 0);
  ASSERT_GE(msg, 0);
  ASSERT_TRUE(RegisterSysv(SysvKind::kShm, shm, "kinds").has_value());
  ASSERT_TRUE(RegisterSysv(SysvKind::kSem, sem, "kinds").has_value());
  ASSERT_TRUE(RegisterSysv(SysvKind::kMsg, msg, "kinds").has_value());
  struct Want {
    IpcObject::Kind kind;
    int id;
    SysvKind sysv;
  };
  for (Want w : {Want{IpcObject::Kind::kSysvShm, shm, SysvKind::kShm},
                 Want{IpcObject::Kind::kSysvSemaphore, sem, SysvKind::kSem},
                 Want{IpcObject::Kind::kSysvMqueue, msg, SysvKind::kMsg}}) {
    auto listed = OursOfKind(w.kind, w.id);
    ASSERT_EQ(listed.size(), 1u) << KindName(w.kind);
    ASSERT_TRUE(Remove(listed[0]).has_value());
    EXPECT_FALSE(SysvCtime(w.sysv, w.id).has_value()) << KindName(w.kind) << " still exists";
    EXPECT_FALSE(Exists(listed[0].registry_entry));
  }
}

TEST(Registry, ObjectRemovedBehindItsBackIsAStaleEntry) {
  int id = NewShm();
  ASSERT_GE(id, 0);
  ASSERT_TRUE(RegisterSysv(SysvKind::kShm, id, "stale").has_value());
  ASSERT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);
  auto listed = OursOfKind(IpcObject::Kind::kSysvStaleEntry, id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, listed[0].registry_entry);
  ASSERT_TRUE(Remove(listed[0]).has_value());
  EXPECT_FALSE(Exists(listed[0].registry_entry));
}

TEST(Registry, ReusedIdIsStaleAndItsNewOwnerIsLeftAlone) {
  // An entry recording another ctime for a live id stands for an old object whose id the kernel
  // has since given to this one: removing the entry must not remove the new object.
  int id = NewShm();
  ASSERT_GE(id, 0);
  auto ctime = SysvCtime(SysvKind::kShm, id);
  ASSERT_TRUE(ctime.has_value());
  SysvEntry e{SysvKind::kShm, id, *ctime - 100, IpcNamespace(), SessionPid(), "reused"};
  std::string dir = SysvRegistryDir();
  ASSERT_TRUE(::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST);
  std::string path = dir + "/" + *SysvEntryName(e);
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto listed = OursOfKind(IpcObject::Kind::kSysvStaleEntry, id);
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_TRUE(Remove(listed[0]).has_value());
  EXPECT_TRUE(SysvCtime(SysvKind::kShm, id).has_value()) << "the new owner was removed";
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);
}

TEST(Registry, EntryOfAKilledCreatorSurvivesForTheAudit) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int id = NewShm();
    if (id < 0 || !RegisterSysv(SysvKind::kShm, id, "crash")) ::_exit(3);
    ::kill(::getpid(), SIGKILL);  // dies without unregistering or removing
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);
  auto ours = ListSessionObjects(SessionPid());
  auto it = std::find_if(ours.begin(), ours.end(), [](const IpcObject& o) {
    return o.kind == IpcObject::Kind::kSysvShm && o.purpose == "crash";
  });
  ASSERT_NE(it, ours.end());
  ASSERT_TRUE(Remove(*it).has_value());
}

TEST(Registry, ManyProcessesRegisterAndUnregisterAtOnce) {
  constexpr int kChildren = 4, kRounds = 40;
  std::vector<pid_t> kids;
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0; i < kRounds; ++i) {
        int id = NewShm();
        if (id < 0) ::_exit(2);
        if (auto r = RegisterSysv(SysvKind::kShm, id, "parallel"); !r) {
          ::shmctl(id, IPC_RMID, nullptr);  // never leak the segment of a failed round
          fprintf(stderr, "%s\n", r.error().message().c_str());
          ::_exit(3);
        }
        ::shmctl(id, IPC_RMID, nullptr);
        if (!UnregisterSysv(SysvKind::kShm, id)) ::_exit(4);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  EXPECT_TRUE(ListSessionObjects(SessionPid()).empty());
}

TEST(Reaper, RemovesOrphansOfDeadSessionsOnly) {
  pid_t dead = DeadPid();
  int orphan_shm = NewShm();
  int live_shm = NewShm();
  ASSERT_GE(orphan_shm, 0);
  ASSERT_GE(live_shm, 0);
  ASSERT_TRUE(RegisterSysvForSession(SysvKind::kShm, orphan_shm, "orphan", dead).has_value());
  ASSERT_TRUE(RegisterSysv(SysvKind::kShm, live_shm, "live").has_value());
  // A POSIX segment named for the dead session (the scheme of names.h, written out by hand).
  std::string posix = "/ipclab." + std::to_string(dead) + ".0123456789ab.orphan";
  int fd = ::shm_open(posix.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);

  std::vector<sys::SysError> errors;
  (void)ReapOrphans(&errors);
  // Another reaper on the machine may have beaten us to them; either way they are gone.
  EXPECT_FALSE(SysvCtime(SysvKind::kShm, orphan_shm).has_value());
  EXPECT_TRUE(ListSessionObjects(dead).empty());
  EXPECT_FALSE(Exists("/dev/shm" + posix));
  EXPECT_TRUE(SysvCtime(SysvKind::kShm, live_shm).has_value()) << "a live session's object was reaped";
  ASSERT_EQ(OursOfKind(IpcObject::Kind::kSysvShm, live_shm).size(), 1u);
  ASSERT_TRUE(Remove(OursOfKind(IpcObject::Kind::kSysvShm, live_shm)[0]).has_value());
}

int RunLeaksCommand(std::vector<std::string> args) {
  CLI::App app;
  CLI::App* sub = app.add_subcommand("leaks");
  auto run = SetupLeaksCommand(*sub);
  args.insert(args.begin(), "leaks");
  std::reverse(args.begin(), args.end());  // CLI11 parses a vector given in reverse order
  app.parse(args);
  return run();
}

TEST(LeaksCommand, ExitsOneOnAnOrphanAndZeroOnceReaped) {
  pid_t dead = DeadPid();
  int id = NewShm();
  ASSERT_GE(id, 0);
  ASSERT_TRUE(RegisterSysvForSession(SysvKind::kShm, id, "cmd", dead).has_value());
  EXPECT_EQ(RunLeaksCommand({"--json"}), 1);
  EXPECT_TRUE(SysvCtime(SysvKind::kShm, id).has_value()) << "listing removed something";
  EXPECT_EQ(RunLeaksCommand({"--reap"}), 0);
  EXPECT_FALSE(SysvCtime(SysvKind::kShm, id).has_value());
  EXPECT_TRUE(ListSessionObjects(dead).empty());
}

}  // namespace
}  // namespace ipc::audit
