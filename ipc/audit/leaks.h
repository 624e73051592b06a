// ipc/audit/leaks.h: find IPC objects ipclab created that are still alive.
//
// The audit reads the places the kernel exposes them (/dev/shm for POSIX segments and named
// semaphores, /dev/mqueue for message queues when it is mounted, the temp root for private
// directories) and keeps what carries an ipclab name (see names.h). System V objects have no
// names; they are tracked by the registry (a later part of this folder).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "ipc/sys/sys.h"

namespace ipc::audit {

struct IpcObject {
  enum class Kind { kPosixShm, kPosixSemaphore, kPosixMqueue, kPrivateDir };
  Kind kind;
  std::string name;  // as the remove call takes it: "/ipclab..." or a directory path
  pid_t session_pid = 0;
  bool session_alive = false;  // is the session pid still a running process?
  std::string purpose;
};

std::string_view KindName(IpcObject::Kind kind);
// "posix-shm /ipclab.12.ab34cd56ef01.ring (session 12, alive)"
std::string Describe(const IpcObject& o);

// Every ipclab object on this machine that the audit can see.
std::vector<IpcObject> ListObjects();
// Only those of one session (default: ours).
std::vector<IpcObject> ListSessionObjects(pid_t session);
// Removes one object (shm_unlink, sem_unlink, mq_unlink, or the directory tree).
sys::Status Remove(const IpcObject& o);

}  // namespace ipc::audit
