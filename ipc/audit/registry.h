// ipc/audit/registry.h: the record of System V objects ipclab created.
//
// System V shared memory, semaphore sets and message queues have no names ipclab can give them
// (ipclab always creates them with IPC_PRIVATE), so whoever creates one registers it here right
// after creating it and unregisters it right after removing it:
//
//   int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
//   if (auto s = ipc::audit::RegisterSysv(SysvKind::kShm, id, "ring"); !s) { shmctl(id, IPC_RMID); ... }
//   ...
//   shmctl(id, IPC_RMID, nullptr);
//   (void)ipc::audit::UnregisterSysv(SysvKind::kShm, id);
//
// The leak audit (leaks.h) lists registered objects with their session pid, and the reaper
// removes those whose session died. The storage scheme is in names.h: one file per entry whose
// name holds everything (kind, id, ctime, IPC namespace, session pid, purpose), so it survives a
// crash of the process that made it, needs no locking between processes, and is keyed so a stale
// entry (object removed, or its id reused by another object) is told apart from a live one by
// comparing the recorded ctime with IPC_STAT's.
//
// The key is the object's ctime, which the kernel also bumps on IPC_SET (and, for semaphore sets,
// on semctl SETVAL/SETALL). Do those before registering, or initialise semaphores with semop(2)
// (which leaves sem_ctime alone) as ipc/sync does; an entry whose ctime no longer matches is
// treated as stale and its object is never removed by the audit (the safe side of the doubt).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "ipc/audit/names.h"
#include "ipc/sys/sys.h"

namespace ipc::audit {

// enum class SysvKind { kShm, kSem, kMsg };  (declared in names.h)

// Records a System V object of this session (see SessionPid) that exists now. EINVAL for a bad
// purpose (as UniqueName), EINVAL/EIDRM from IPC_STAT when there is no such object, EEXIST when
// it is registered already.
sys::Status RegisterSysv(SysvKind kind, int id, std::string_view purpose);
// The same for another session pid: for tools and tests that adopt an object (and for tests of
// the reaper, which need entries of a dead session).
sys::Status RegisterSysvForSession(SysvKind kind, int id, std::string_view purpose, pid_t session);
// Removes the entry (of this IPC namespace) for kind/id, whether or not the object still exists.
// ENOENT when there is none.
sys::Status UnregisterSysv(SysvKind kind, int id);

// One registry entry as found on disk.
struct SysvRecord {
  SysvEntry entry;
  std::string path;  // the entry file
};
// Every entry in the registry (all sessions, all IPC namespaces). Unreadable registry: empty.
std::vector<SysvRecord> ListSysvRecords();

// The object's current ctime (shm_ctime, sem_ctime, msg_ctime) from IPC_STAT.
sys::Result<long long> SysvCtime(SysvKind kind, int id);
// IPC_RMID on the object (no registry change).
sys::Status RemoveSysvObject(SysvKind kind, int id);
// Removes one entry file (and the registry directory once it is empty).
sys::Status RemoveSysvRecord(const std::string& path);

}  // namespace ipc::audit
