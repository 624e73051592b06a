// ipc/audit/leaks.h: find IPC objects ipclab created that are still alive.
//
// The audit reads the places the kernel exposes them (/dev/shm for POSIX segments and named
// semaphores, /dev/mqueue for message queues when it is mounted, the temp root for private
// directories) and keeps what carries an ipclab name (see names.h). System V objects have no
// names; they are found through the registry (registry.h): a registered object that still exists
// with the recorded ctime is listed as a System V object, and an entry whose object is gone or
// whose id now belongs to another object is listed as a stale registry entry (removing it only
// removes the record, never the other object).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "ipc/sys/sys.h"

namespace ipc::audit {

struct IpcObject {
  enum class Kind {
    kPosixShm,
    kPosixSemaphore,
    kPosixMqueue,
    kPrivateDir,
    kSysvShm,
    kSysvSemaphore,
    kSysvMqueue,
    kSysvStaleEntry,  // a registry entry whose object is gone (or whose id was reused)
  };
  Kind kind;
  // As the remove call takes it: "/ipclab..." or a directory path; for System V objects the
  // decimal id; for a stale entry the entry's path.
  std::string name;
  pid_t session_pid = 0;
  bool session_alive = false;  // is the session pid still a running process?
  std::string purpose;
  int sysv_id = -1;            // System V objects and stale entries
  std::string registry_entry;  // System V objects and stale entries: the registry file
};

std::string_view KindName(IpcObject::Kind kind);
// "posix-shm /ipclab.12.ab34cd56ef01.ring (session 12, alive)"
std::string Describe(const IpcObject& o);

// Every ipclab object on this machine that the audit can see.
std::vector<IpcObject> ListObjects();
// Only those of one session (default: ours).
std::vector<IpcObject> ListSessionObjects(pid_t session);
// Removes one object (shm_unlink, sem_unlink, mq_unlink, the directory tree, IPC_RMID plus its
// registry entry, or a stale entry). A System V object whose ctime no longer matches its entry
// is not removed (its id belongs to someone else now); only the entry goes.
sys::Status Remove(const IpcObject& o);

// The reaper: removes every object whose session pid no longer runs. Returns what it removed;
// removals that failed are appended to `errors` (when given) and the objects are left.
std::vector<IpcObject> ReapOrphans(std::vector<sys::SysError>* errors = nullptr);

}  // namespace ipc::audit
