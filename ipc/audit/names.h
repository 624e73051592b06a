// ipc/audit/names.h: the one naming scheme for every IPC object ipclab creates.
//
//   POSIX shm, named semaphores, message queues:  /ipclab.<pid>.<random>.<purpose>
//   FIFOs, Unix sockets, lock files:              a private directory <tmp>/ipclab.<pid>.<random>.<purpose>/
//   System V objects:                             IPC_PRIVATE keys, recorded in the registry
//   the System V registry:                        /dev/shm/ipclab-sysv.<uid>/<entry> (see below)
//
// <pid> is the session pid: the pid of the first process in this tree that asked for a name.
// A forked child inherits it, so everything one test (and its children) creates carries the
// test's pid, which is what the leak audit and the reaper key on: an object whose session pid no
// longer runs is an orphan. <random> is 48 bits from getrandom(), so parallel tests never collide.
// Only ipc/audit/ knows this format; everything else calls these functions.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "ipc/sys/sys.h"

namespace ipc::audit {

inline constexpr std::string_view kPrefix = "ipclab";

// The pid names are stamped with (see above).
pid_t SessionPid();

// "ipclab.<pid>.<random>.<purpose>". `purpose` is 1-32 characters of [a-z0-9_-]; anything else
// is refused with EINVAL (names are never silently mangled or truncated).
sys::Result<std::string> UniqueName(std::string_view purpose);
// The same with the leading '/' that shm_open, sem_open and mq_open want.
sys::Result<std::string> PosixName(std::string_view purpose);

struct ParsedName {
  pid_t pid = 0;
  std::string random;
  std::string purpose;
};
// Parses a name made by UniqueName (a leading '/', and a "sem." prefix as /dev/shm shows named
// semaphores, are accepted). std::nullopt for anything that is not an ipclab name.
std::optional<ParsedName> ParseName(std::string_view name);

// Where private directories go: $TEST_TMPDIR, else $TMPDIR, else /tmp.
std::string TempRoot();

// A private directory (mode 0700, created with mkdir so an existing one is an error) for FIFOs,
// sockets and lock files. Removes itself and everything in it on destruction.
class PrivateDir {
 public:
  static sys::Result<PrivateDir> Create(std::string_view purpose);
  PrivateDir(PrivateDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  PrivateDir& operator=(PrivateDir&&) = delete;
  PrivateDir(const PrivateDir&) = delete;
  ~PrivateDir();

  const std::string& path() const { return path_; }
  // path() + "/" + file.
  std::string file(std::string_view file) const;

 private:
  explicit PrivateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Removes a directory tree (used by PrivateDir and the reaper). Errors other than ENOENT are
// reported; what could be removed is removed.
sys::Status RemoveTree(const std::string& path);

// --- The System V registry (registry.h records into it, leaks.h reads it) -----------------------
//
// System V objects have no names, so ipclab creates them with IPC_PRIVATE and records each one as
// an empty file in a per-uid directory on the shared-memory filesystem:
//
//   /dev/shm/ipclab-sysv.<uid>/<kind>.<id>.<ctime>.<ipcns>.<pid>.<purpose>
//
// kind is shm|sem|msg; id the shmid/semid/msqid; ctime the object's shm_ctime/sem_ctime/msg_ctime
// when it was registered (with id, the key that tells a live entry from a stale one: an id reused
// by another object has another ctime); ipcns the inode of the IPC namespace (ids mean nothing in
// another one); pid the session pid; purpose as for UniqueName. Everything is in the name, so an
// entry is created (O_EXCL, 0600) and removed in one system call each: a process killed at any
// point leaves either no entry or a complete one, which the reaper then finds. Many processes add
// and remove entries at once without locks. The directory is removed again when its last entry is,
// so an idle machine shows nothing. Its name ("ipclab-sysv", not "ipclab.") never matches the
// POSIX leak pattern `^(sem\.)?ipclab\.`.
enum class SysvKind { kShm, kSem, kMsg };
std::string_view SysvKindName(SysvKind kind);  // "shm", "sem", "msg"

// The registry directory for this uid (not created here).
std::string SysvRegistryDir();

struct SysvEntry {
  SysvKind kind = SysvKind::kShm;
  int id = 0;
  long long ctime = 0;
  unsigned long long ipc_namespace = 0;
  pid_t pid = 0;  // session pid
  std::string purpose;
};
// The file name of an entry (no directory); EINVAL for a bad purpose or negative id.
sys::Result<std::string> SysvEntryName(const SysvEntry& e);
// The inverse; std::nullopt for any file that is not an entry.
std::optional<SysvEntry> ParseSysvEntryName(std::string_view file);
// The inode of this process's IPC namespace (/proc/self/ns/ipc); 0 if it cannot be read.
unsigned long long IpcNamespace();

}  // namespace ipc::audit
