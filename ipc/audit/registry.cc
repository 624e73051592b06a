#include "ipc/audit/registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ipc::audit {
namespace {

union SemArg {  // union semun, which glibc leaves to the caller
  int val;
  struct semid_ds* buf;
  unsigned short* array;
};

std::string ObjectName(SysvKind kind, int id) { return fmt::format("{} {}", SysvKindName(kind), id); }

// Creates the registry directory if needed and checks that it is ours: a directory (not a
// symlink) owned by this uid that nobody else can write, since /dev/shm is world-writable.
sys::Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys::Fail("mkdir", dir);
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0) return sys::Fail("lstat", dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 0022) != 0) {
    return sys::Fail("ipc::audit::registry", dir, EPERM,
                     "registry directory is not a private directory of this uid");
  }
  return {};
}

void RemoveDirIfEmpty() {
  // ENOTEMPTY/EEXIST: other entries remain; ENOENT: someone else removed it. Both are fine.
  (void)::rmdir(SysvRegistryDir().c_str());
}

}  // namespace

sys::Result<long long> SysvCtime(SysvKind kind, int id) {
  std::string object = ObjectName(kind, id);
  switch (kind) {
    case SysvKind::kShm: {
      shmid_ds ds{};
      auto r = sys::Call("shmctl(IPC_STAT)", object, [&] { return ::shmctl(id, IPC_STAT, &ds); });
      if (!r) return std::unexpected(r.error());
      return static_cast<long long>(ds.shm_ctime);
    }
    case SysvKind::kSem: {
      semid_ds ds{};
      SemArg arg{};
      arg.buf = &ds;
      auto r = sys::Call("semctl(IPC_STAT)", object, [&] { return ::semctl(id, 0, IPC_STAT, arg); });
      if (!r) return std::unexpected(r.error());
      return static_cast<long long>(ds.sem_ctime);
    }
    case SysvKind::kMsg: {
      msqid_ds ds{};
      auto r = sys::Call("msgctl(IPC_STAT)", object, [&] { return ::msgctl(id, IPC_STAT, &ds); });
      if (!r) return std::unexpected(r.error());
      return static_cast<long long>(ds.msg_ctime);
    }
  }
  return sys::Fail("ipc::audit::SysvCtime", object, EINVAL, "unknown kind");
}

sys::Status RemoveSysvObject(SysvKind kind, int id) {
  std::string object = ObjectName(kind, id);
  sys::Result<int> r;
  switch (kind) {
    case SysvKind::kShm:
      r = sys::Call("shmctl(IPC_RMID)", object, [&] { return ::shmctl(id, IPC_RMID, nullptr); });
      break;
    case SysvKind::kSem:
      r = sys::Call("semctl(IPC_RMID)", object, [&] { return ::semctl(id, 0, IPC_RMID); });
      break;
    case SysvKind::kMsg:
      r = sys::Call("msgctl(IPC_RMID)", object, [&] { return ::msgctl(id, IPC_RMID, nullptr); });
      break;
  }
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Status RegisterSysvForSession(SysvKind kind, int id, std::string_view purpose, pid_t session) {
  auto ctime = SysvCtime(kind, id);
  if (!ctime) return std::unexpected(ctime.error());
  SysvEntry e{kind, id, *ctime, IpcNamespace(), session, std::string(purpose)};
  auto file = SysvEntryName(e);
  if (!file) return std::unexpected(file.error());
  std::string dir = SysvRegistryDir();
  std::string path = dir + "/" + *file;
  // An Unregister in another process may rmdir the directory between our mkdir and open; the
  // open then fails with ENOENT and we make it again. Bounded, so a hostile loop cannot hang us.
  for (int attempt = 0;; ++attempt) {
    if (auto s = EnsureDir(dir); !s) {
      // The directory vanished between our mkdir and lstat: the same race, make it again.
      if (s.error().err == ENOENT && attempt < 100) continue;
      return s;
    }
    auto fd = sys::Retry("open", path, [&] {
      return ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    });
    if (fd) {
      ::close(*fd);
      return {};
    }
    if (fd.error().err != ENOENT || attempt >= 100) return std::unexpected(fd.error());
  }
}

sys::Status RegisterSysv(SysvKind kind, int id, std::string_view purpose) {
  return RegisterSysvForSession(kind, id, purpose, SessionPid());
}

std::vector<SysvRecord> ListSysvRecords() {
  std::vector<SysvRecord> out;
  std::string dir = SysvRegistryDir();
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* ent = ::readdir(d)) {
    auto e = ParseSysvEntryName(ent->d_name);
    if (!e) continue;
    out.push_back({std::move(*e), dir + "/" + ent->d_name});
  }
  ::closedir(d);
  return out;
}

sys::Status RemoveSysvRecord(const std::string& path) {
  auto r = sys::Call("unlink", path, [&] { return ::unlink(path.c_str()); });
  RemoveDirIfEmpty();
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Status UnregisterSysv(SysvKind kind, int id) {
  unsigned long long ns = IpcNamespace();
  bool found = false;
  sys::Status status;
  for (const auto& rec : ListSysvRecords()) {
    if (rec.entry.kind != kind || rec.entry.id != id || rec.entry.ipc_namespace != ns) continue;
    found = true;
    if (auto s = RemoveSysvRecord(rec.path); !s && status) status = s;
  }
  if (!found) {
    RemoveDirIfEmpty();
    return sys::Fail("ipc::audit::UnregisterSysv", ObjectName(kind, id), ENOENT, "not registered");
  }
  return status;
}

}  // namespace ipc::audit
