#include "ipc/audit/leaks.h"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <optional>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/audit/registry.h"

namespace ipc::audit {
namespace {

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

void Scan(const std::string& dir, IpcObject::Kind file_kind, bool want_dirs,
          std::vector<IpcObject>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;  // e.g. /dev/mqueue not mounted: nothing of that kind can exist
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    auto parsed = ParseName(n);
    if (!parsed) continue;
    std::string path = dir + "/" + std::string(n);
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) continue;
    bool is_dir = S_ISDIR(st.st_mode);
    if (is_dir != want_dirs) continue;
    IpcObject o;
    if (want_dirs) {
      o.kind = IpcObject::Kind::kPrivateDir;
      o.name = path;
    } else if (n.starts_with("sem.")) {
      o.kind = IpcObject::Kind::kPosixSemaphore;
      o.name = "/" + std::string(n.substr(4));
    } else {
      o.kind = file_kind;
      o.name = "/" + std::string(n);
    }
    o.session_pid = parsed->pid;
    o.session_alive = Alive(parsed->pid);
    o.purpose = parsed->purpose;
    out.push_back(std::move(o));
  }
  ::closedir(d);
}

IpcObject::Kind SysvObjectKind(SysvKind k) {
  switch (k) {
    case SysvKind::kShm: return IpcObject::Kind::kSysvShm;
    case SysvKind::kSem: return IpcObject::Kind::kSysvSemaphore;
    case SysvKind::kMsg: return IpcObject::Kind::kSysvMqueue;
  }
  return IpcObject::Kind::kSysvStaleEntry;
}

std::optional<SysvKind> SysvKindOf(IpcObject::Kind k) {
  switch (k) {
    case IpcObject::Kind::kSysvShm: return SysvKind::kShm;
    case IpcObject::Kind::kSysvSemaphore: return SysvKind::kSem;
    case IpcObject::Kind::kSysvMqueue: return SysvKind::kMsg;
    case IpcObject::Kind::kPosixShm:
    case IpcObject::Kind::kPosixSemaphore:
    case IpcObject::Kind::kPosixMqueue:
    case IpcObject::Kind::kPrivateDir:
    case IpcObject::Kind::kSysvStaleEntry: return std::nullopt;
  }
  return std::nullopt;
}

void ScanRegistry(std::vector<IpcObject>& out) {
  const unsigned long long ns = IpcNamespace();
  for (auto& rec : ListSysvRecords()) {
    IpcObject o;
    o.session_pid = rec.entry.pid;
    o.session_alive = Alive(rec.entry.pid);
    o.purpose = rec.entry.purpose;
    o.sysv_id = rec.entry.id;
    o.registry_entry = rec.path;
    if (rec.entry.ipc_namespace != ns) {
      // Ids of another IPC namespace cannot be checked from here. Once its session is dead the
      // entry is only a record to clean up (the namespace took its objects with it, or will).
      if (o.session_alive) continue;
      o.kind = IpcObject::Kind::kSysvStaleEntry;
      o.name = rec.path;
    } else if (auto ctime = SysvCtime(rec.entry.kind, rec.entry.id);
               ctime && *ctime == rec.entry.ctime) {
      o.kind = SysvObjectKind(rec.entry.kind);
      o.name = std::to_string(rec.entry.id);
    } else {
      o.kind = IpcObject::Kind::kSysvStaleEntry;
      o.name = rec.path;
    }
    out.push_back(std::move(o));
  }
}

}  // namespace

std::string_view KindName(IpcObject::Kind kind) {
  switch (kind) {
    case IpcObject::Kind::kPosixShm: return "posix-shm";
    case IpcObject::Kind::kPosixSemaphore: return "posix-semaphore";
    case IpcObject::Kind::kPosixMqueue: return "posix-mqueue";
    case IpcObject::Kind::kPrivateDir: return "private-dir";
    case IpcObject::Kind::kSysvShm: return "sysv-shm";
    case IpcObject::Kind::kSysvSemaphore: return "sysv-sem";
    case IpcObject::Kind::kSysvMqueue: return "sysv-msg";
    case IpcObject::Kind::kSysvStaleEntry: return "sysv-stale-entry";
  }
  return "unknown";
}

std::string Describe(const IpcObject& o) {
  return fmt::format("{} {} (session {}, {})", KindName(o.kind), o.name, o.session_pid,
                     o.session_alive ? "alive" : "dead");
}

std::vector<IpcObject> ListObjects() {
  std::vector<IpcObject> out;
  Scan("/dev/shm", IpcObject::Kind::kPosixShm, false, out);
  Scan("/dev/mqueue", IpcObject::Kind::kPosixMqueue, false, out);
  Scan(TempRoot(), IpcObject::Kind::kPrivateDir, true, out);
  ScanRegistry(out);
  return out;
}

std::vector<IpcObject> ListSessionObjects(pid_t session) {
  std::vector<IpcObject> out;
  for (auto& o : ListObjects()) {
    if (o.session_pid == session) out.push_back(std::move(o));
  }
  return out;
}

sys::Status Remove(const IpcObject& o) {
  const char* n = o.name.c_str();
  sys::Result<int> r;
  switch (o.kind) {
    case IpcObject::Kind::kPosixShm:
      r = sys::Call("shm_unlink", o.name, [&] { return ::shm_unlink(n); });
      break;
    case IpcObject::Kind::kPosixSemaphore:
      r = sys::Call("sem_unlink", o.name, [&] { return ::sem_unlink(n); });
      break;
    case IpcObject::Kind::kPosixMqueue:
      r = sys::Call("mq_unlink", o.name, [&] { return ::mq_unlink(n); });
      break;
    case IpcObject::Kind::kPrivateDir:
      return RemoveTree(o.name);
    case IpcObject::Kind::kSysvShm:
    case IpcObject::Kind::kSysvSemaphore:
    case IpcObject::Kind::kSysvMqueue: {
      SysvKind kind = *SysvKindOf(o.kind);
      auto rec = ParseSysvEntryName(o.registry_entry.substr(o.registry_entry.rfind('/') + 1));
      // Check the key again right before IPC_RMID: the id must still name the object we listed.
      auto ctime = SysvCtime(kind, o.sysv_id);
      if (rec && ctime && *ctime == rec->ctime) {
        auto s = RemoveSysvObject(kind, o.sysv_id);
        if (!s && s.error().err != EINVAL && s.error().err != EIDRM) return s;
      }
      auto s = RemoveSysvRecord(o.registry_entry);
      if (!s && s.error().err != ENOENT) return s;
      return {};
    }
    case IpcObject::Kind::kSysvStaleEntry: {
      auto s = RemoveSysvRecord(o.registry_entry);
      if (!s && s.error().err != ENOENT) return s;
      return {};
    }
  }
  if (!r && r.error().err != ENOENT) return std::unexpected(r.error());
  return {};
}

}  // namespace ipc::audit

namespace ipc::audit {

std::vector<IpcObject> ReapOrphans(std::vector<sys::SysError>* errors) {
  std::vector<IpcObject> removed;
  for (auto& o : ListObjects()) {
    if (o.session_alive) continue;
    if (auto s = Remove(o); !s) {
      if (errors) errors->push_back(s.error());
      continue;
    }
    removed.push_back(std::move(o));
  }
  return removed;
}

}  // namespace ipc::audit
