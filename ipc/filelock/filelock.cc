#include "ipc/filelock/filelock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

namespace ipc::filelock {
namespace {

using Backoff = std::chrono::microseconds;

// Retries `attempt` (true: done; false: would block; error) until `deadline` with backoff.
template <class F>
sys::Status RetryWithBackoff(sys::Deadline deadline, std::string_view call, std::string_view what,
                             F attempt) {
  Backoff backoff(20);
  for (;;) {
    auto r = attempt();
    if (!r) return std::unexpected(r.error());
    if (*r) return {};
    if (deadline.expired()) return sys::Fail(call, what, ETIMEDOUT);
    std::this_thread::sleep_for(std::min<sys::Deadline::Clock::duration>(backoff, deadline.remaining()));
    backoff = std::min(backoff * 2, Backoff(5000));
  }
}

struct flock MakeFlock(short type, off_t start, off_t length) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = length;
  fl.l_pid = 0;  // must be 0 for OFD locks
  return fl;
}

short FcntlType(LockType t) { return t == LockType::kShared ? F_RDLCK : F_WRLCK; }
int FlockOp(LockType t) { return t == LockType::kShared ? LOCK_SH : LOCK_EX; }

std::string RangeName(int fd, off_t start, off_t length) {
  return fmt::format("fd {} [{}, {})", fd, start, length == 0 ? std::string("EOF") : std::to_string(start + length));
}

// One non-blocking attempt: true locked, false held elsewhere.
sys::Result<bool> TryOfd(int fd, LockType type, off_t start, off_t length) {
  struct flock fl = MakeFlock(FcntlType(type), start, length);
  auto r = sys::Retry("fcntl(F_OFD_SETLK)", RangeName(fd, start, length),
                      [&] { return ::fcntl(fd, F_OFD_SETLK, &fl); });
  if (r) return true;
  if (r.error().err == EAGAIN || r.error().err == EACCES) return false;
  return std::unexpected(r.error());
}

sys::Result<bool> TryFlock(int fd, LockType type) {
  auto r = sys::Retry("flock", sys::FdName(fd), [&] { return ::flock(fd, FlockOp(type) | LOCK_NB); });
  if (r) return true;
  if (r.error().err == EWOULDBLOCK) return false;
  return std::unexpected(r.error());
}

}  // namespace

sys::Result<OfdLock> OfdLock::TryLock(int fd, LockType type, off_t start, off_t length) {
  auto r = TryOfd(fd, type, start, length);
  if (!r) return std::unexpected(r.error());
  if (!*r) {
    return sys::Fail("fcntl(F_OFD_SETLK)", RangeName(fd, start, length), EAGAIN,
                     "would block: held through another open file description");
  }
  return OfdLock(fd, start, length);
}

sys::Result<OfdLock> OfdLock::Lock(int fd, LockType type, sys::Deadline deadline, off_t start,
                                   off_t length) {
  if (deadline.is_never()) {
    struct flock fl = MakeFlock(FcntlType(type), start, length);
    auto r = sys::Retry("fcntl(F_OFD_SETLKW)", RangeName(fd, start, length),
                        [&] { return ::fcntl(fd, F_OFD_SETLKW, &fl); });
    if (!r) return std::unexpected(r.error());
    return OfdLock(fd, start, length);
  }
  auto ok = RetryWithBackoff(deadline, "fcntl(F_OFD_SETLK)", RangeName(fd, start, length),
                             [&] { return TryOfd(fd, type, start, length); });
  if (!ok) return std::unexpected(ok.error());
  return OfdLock(fd, start, length);
}

OfdLock::OfdLock(OfdLock&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), start_(o.start_), length_(o.length_) {}

OfdLock::~OfdLock() { (void)Unlock(); }

sys::Status OfdLock::Unlock() {
  if (fd_ < 0) return {};
  struct flock fl = MakeFlock(F_UNLCK, start_, length_);
  int fd = std::exchange(fd_, -1);
  auto r = sys::Retry("fcntl(F_OFD_SETLK, F_UNLCK)", RangeName(fd, start_, length_),
                      [&] { return ::fcntl(fd, F_OFD_SETLK, &fl); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Result<bool> WouldConflict(int fd, LockType type, off_t start, off_t length) {
  struct flock fl = MakeFlock(FcntlType(type), start, length);
  auto r = sys::Call("fcntl(F_OFD_GETLK)", RangeName(fd, start, length),
                     [&] { return ::fcntl(fd, F_OFD_GETLK, &fl); });
  if (!r) return std::unexpected(r.error());
  return fl.l_type != F_UNLCK;
}

sys::Result<FlockLock> FlockLock::TryLock(int fd, LockType type) {
  auto r = TryFlock(fd, type);
  if (!r) return std::unexpected(r.error());
  if (!*r) return sys::Fail("flock", sys::FdName(fd), EAGAIN, "would block: held elsewhere");
  return FlockLock(fd);
}

sys::Result<FlockLock> FlockLock::Lock(int fd, LockType type, sys::Deadline deadline) {
  if (deadline.is_never()) {
    auto r = sys::Retry("flock", sys::FdName(fd), [&] { return ::flock(fd, FlockOp(type)); });
    if (!r) return std::unexpected(r.error());
    return FlockLock(fd);
  }
  auto ok = RetryWithBackoff(deadline, "flock", sys::FdName(fd), [&] { return TryFlock(fd, type); });
  if (!ok) return std::unexpected(ok.error());
  return FlockLock(fd);
}

FlockLock::~FlockLock() { (void)Unlock(); }

sys::Status FlockLock::Unlock() {
  if (fd_ < 0) return {};
  int fd = std::exchange(fd_, -1);
  auto r = sys::Retry("flock(LOCK_UN)", sys::FdName(fd), [&] { return ::flock(fd, LOCK_UN); });
  if (!r) return std::unexpected(r.error());
  return {};
}

namespace {

sys::Result<pid_t> ReadPid(int fd, const std::string& path) {
  char buf[32] = {};
  auto n = sys::Retry("pread", path, [&] { return ::pread(fd, buf, sizeof buf - 1, 0); });
  if (!n) return std::unexpected(n.error());
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  if (*n == 0 || end == buf || pid <= 0 || (*end != '\n' && *end != '\0')) {
    return sys::Fail("lockfile.read", path, EBADMSG, fmt::format("no pid in lock file: '{}'", buf));
  }
  return static_cast<pid_t>(pid);
}

// Tries to break a stale lock at `path`. True when a lock was removed (retry creating), false when
// the lock is live (or another breaker is at work).
sys::Result<bool> BreakIfStale(const std::string& path) {
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT) return true;  // released meanwhile: just retry
    return sys::Fail("open", path);
  }
  sys::Fd fd(raw);
  // The flock decides, not the pid: a pid can be reused by an unrelated process (the lock would
  // then never be broken), and a holder's forked child shares the flock and still relies on it.
  // The flock is free exactly when no process holds the lock file's open file description.
  auto free = TryFlock(fd.get(), LockType::kExclusive);
  if (!free) return std::unexpected(free.error());
  if (!*free) return false;
  // We hold the stale file's flock: no other breaker can get here for this file. Remove it only if
  // the path still names it.
  struct stat by_path {}, by_fd {};
  if (::stat(path.c_str(), &by_path) != 0) return true;
  if (::fstat(fd.get(), &by_fd) != 0) return sys::Fail("fstat", path);
  if (by_path.st_ino != by_fd.st_ino || by_path.st_dev != by_fd.st_dev) return true;
  auto u = sys::Call("unlink(stale lock)", path, [&] { return ::unlink(path.c_str()); });
  if (!u && u.error().err != ENOENT) return std::unexpected(u.error());
  return true;
}

}  // namespace

sys::Result<pid_t> LockFile::Holder(const std::string& path) {
  auto fd = sys::Call("open", path, [&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
  if (!fd) return std::unexpected(fd.error());
  sys::Fd owned(*fd);
  return ReadPid(owned.get(), path);
}

sys::Result<LockFile> LockFile::Acquire(const std::string& path, sys::Deadline deadline) {
  Backoff backoff(50);
  for (;;) {
    uint64_t rnd = 0;
    (void)::getrandom(&rnd, sizeof rnd, 0);
    std::string tmp = fmt::format("{}.tmp.{}.{:016x}", path, ::getpid(), rnd);
    auto fdr = sys::Call("open(O_EXCL)", tmp, [&] {
      return ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    });
    if (!fdr) return std::unexpected(fdr.error());
    sys::Fd fd(*fdr);
    struct Unlink {
      const std::string& p;
      ~Unlink() { ::unlink(p.c_str()); }
    } remove_tmp{tmp};
    auto locked = TryFlock(fd.get(), LockType::kExclusive);
    if (!locked) return std::unexpected(locked.error());
    std::string pid = fmt::format("{}\n", ::getpid());
    auto w = sys::Retry("write", tmp, [&] { return ::write(fd.get(), pid.data(), pid.size()); });
    if (!w) return std::unexpected(w.error());
    if (static_cast<size_t>(*w) != pid.size()) return sys::Fail("write", tmp, EIO, "short write");
    // The lock file appears complete (pid written, flock held) in one atomic step.
    if (::link(tmp.c_str(), path.c_str()) == 0) return LockFile(path, std::move(fd));
    if (errno != EEXIST) return sys::Fail("link", path);
    auto broke = BreakIfStale(path);
    if (!broke) return std::unexpected(broke.error());
    if (*broke) continue;
    if (deadline.expired()) {
      auto holder = Holder(path);
      return sys::Fail("lockfile.acquire", path, deadline.is_never() ? EAGAIN : ETIMEDOUT,
                       holder ? fmt::format("held by pid {}", *holder) : "held");
    }
    std::this_thread::sleep_for(std::min<sys::Deadline::Clock::duration>(backoff, deadline.remaining()));
    backoff = std::min(backoff * 2, Backoff(5000));
  }
}

LockFile::~LockFile() { (void)Release(); }

sys::Status LockFile::Release() {
  if (!fd_.valid() || owner_pid_ != ::getpid()) return {};
  struct stat by_path {}, by_fd {};
  sys::Status result;
  // Remove the path only if it is still our file (a breaker may have judged us dead wrongly).
  if (::stat(path_.c_str(), &by_path) == 0 && ::fstat(fd_.get(), &by_fd) == 0 &&
      by_path.st_ino == by_fd.st_ino && by_path.st_dev == by_fd.st_dev) {
    auto u = sys::Call("unlink", path_, [&] { return ::unlink(path_.c_str()); });
    if (!u) result = std::unexpected(u.error());
  }
  fd_.reset();  // drops the flock after the unlink: no window where the file is free but present
  return result;
}

}  // namespace ipc::filelock
