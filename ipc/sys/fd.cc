#include "ipc/sys/fd.h"

#include <fcntl.h>
#include <unistd.h>

namespace ipc::sys {

void Fd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

Status Fd::close() {
  if (fd_ < 0) return {};
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 && errno != EINTR) return Fail("close", FdName(fd));
  return {};
}

Result<PipeEnds> MakePipe(int flags) {
  int fds[2];
  auto r = Call("pipe2", "anonymous pipe", [&] { return ::pipe2(fds, O_CLOEXEC | flags); });
  if (!r) return std::unexpected(r.error());
  return PipeEnds{Fd(fds[0]), Fd(fds[1])};
}

namespace {
Status SetFlag(int fd, int get_cmd, int set_cmd, int flag, bool on, const char* call) {
  auto cur = Call(call, FdName(fd), [&] { return ::fcntl(fd, get_cmd); });
  if (!cur) return std::unexpected(cur.error());
  int want = on ? (*cur | flag) : (*cur & ~flag);
  if (want == *cur) return {};
  auto r = Call(call, FdName(fd), [&] { return ::fcntl(fd, set_cmd, want); });
  if (!r) return std::unexpected(r.error());
  return {};
}
}  // namespace

Status SetNonBlocking(int fd, bool on) {
  return SetFlag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on, "fcntl(O_NONBLOCK)");
}
Status SetCloseOnExec(int fd, bool on) {
  return SetFlag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on, "fcntl(FD_CLOEXEC)");
}

}  // namespace ipc::sys
