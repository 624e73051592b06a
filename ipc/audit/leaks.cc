#include "ipc/audit/leaks.h"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "ipc/audit/names.h"

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

}  // namespace

std::string_view KindName(IpcObject::Kind kind) {
  switch (kind) {
    case IpcObject::Kind::kPosixShm: return "posix-shm";
    case IpcObject::Kind::kPosixSemaphore: return "posix-semaphore";
    case IpcObject::Kind::kPosixMqueue: return "posix-mqueue";
    case IpcObject::Kind::kPrivateDir: return "private-dir";
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
  }
  if (!r && r.error().err != ENOENT) return std::unexpected(r.error());
  return {};
}

}  // namespace ipc::audit
