#include "ipc/mailbox/posix_mq.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "ipc/audit/names.h"

namespace ipc::mailbox {
IPCLAB_CHAOS_NAMESPACE_BEGIN
namespace {

long ReadProcLimit(const char* path) {
  std::ifstream in(path);
  long v = -1;
  in >> v;
  return v;
}

}  // namespace

sys::Result<std::unique_ptr<PosixMqMailbox>> PosixMqMailbox::Create(std::string_view purpose,
                                                                     Options options) {
  if (options.capacity == 0 || options.max_message_size == 0) {
    return sys::Fail("mq_open", purpose, EINVAL, "capacity and max_message_size must be positive");
  }
  auto name = audit::PosixName(purpose);
  if (!name) return std::unexpected(name.error());
  mq_attr attr{};
  attr.mq_maxmsg = static_cast<long>(options.capacity);
  attr.mq_msgsize = static_cast<long>(options.max_message_size);
  auto mq = sys::Call("mq_open", *name, [&] {
    return ::mq_open(name->c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
  });
  if (!mq) {
    auto e = mq.error();
    if (e.err == EINVAL) {
      e.detail = fmt::format(
          "capacity {} / message size {} over the limits (fs.mqueue.msg_max {}, msgsize_max {})",
          options.capacity, options.max_message_size,
          ReadProcLimit("/proc/sys/fs/mqueue/msg_max"),
          ReadProcLimit("/proc/sys/fs/mqueue/msgsize_max"));
    } else if (e.err == EMFILE) {
      e.detail = "RLIMIT_MSGQUEUE (bytes of all this user's queues) or the fd limit reached";
    }
    return std::unexpected(e);
  }
  return std::unique_ptr<PosixMqMailbox>(
      new PosixMqMailbox(*name, *mq, options, Access::kSendReceive, /*owner=*/true));
}

sys::Result<std::unique_ptr<PosixMqMailbox>> PosixMqMailbox::Open(const std::string& name,
                                                                   Access access) {
  int flags = (access == Access::kSend      ? O_WRONLY
               : access == Access::kReceive ? O_RDONLY
                                            : O_RDWR) |
              O_CLOEXEC;
  auto mq = sys::Call("mq_open", name, [&] { return ::mq_open(name.c_str(), flags); });
  if (!mq) return std::unexpected(mq.error());
  // Access control beyond the mode bits: only queues of our own user (root passes mode checks).
  struct stat st {};
  if (::fstat(*mq, &st) == 0 && st.st_uid != ::geteuid()) {
    ::mq_close(*mq);
    return sys::Fail("mq_open", name, EACCES,
                     fmt::format("queue owned by uid {}, not {}", st.st_uid, ::geteuid()));
  }
  mq_attr attr{};
  if (::mq_getattr(*mq, &attr) != 0) {
    int e = errno;
    ::mq_close(*mq);
    return sys::Fail("mq_getattr", name, e);
  }
  Options o{.capacity = static_cast<size_t>(attr.mq_maxmsg),
            .max_message_size = static_cast<size_t>(attr.mq_msgsize)};
  return std::unique_ptr<PosixMqMailbox>(new PosixMqMailbox(name, *mq, o, access, false));
}

PosixMqMailbox::~PosixMqMailbox() {
  ::mq_close(mq_);
  if (owner_pid_ == ::getpid()) ::mq_unlink(name_.c_str());
}

std::string PosixMqMailbox::Describe() const { return fmt::format("posix-mq {}", name_); }

sys::Status PosixMqMailbox::DoSend(std::span<const std::byte> data, unsigned priority,
                                   sys::Deadline deadline, bool nowait) {
  // An empty span may have a null data(), which mq_send must not get (its argument is nonnull).
  static const char kNothing = 0;
  const char* p = data.empty() ? &kNothing : reinterpret_cast<const char*>(data.data());
  IPCLAB_CHAOS_POINT("mailbox.posix.before_send");
  sys::Result<int> r;
  if (nowait) {
    timespec past{0, 0};  // an expired absolute time: fail at once if full
    r = sys::Retry("mq_timedsend", name_,
                   [&] { return ::mq_timedsend(mq_, p, data.size(), priority, &past); });
    if (!r && r.error().err == ETIMEDOUT) {
      return sys::Fail("mq_timedsend", name_, EAGAIN, "would block: mailbox full");
    }
  } else if (deadline.is_never()) {
    r = sys::Retry("mq_send", name_, [&] { return ::mq_send(mq_, p, data.size(), priority); });
  } else {
    r = sys::RetryUntil("mq_timedsend", name_, deadline, [&](sys::Deadline d) {
      timespec at = d.realtime_timespec();
      return ::mq_timedsend(mq_, p, data.size(), priority, &at);
    });
  }
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Result<Message> PosixMqMailbox::DoReceive(sys::Deadline deadline, bool nowait) {
  buf_.resize(options_.max_message_size);
  char* p = reinterpret_cast<char*>(buf_.data());
  unsigned prio = 0;
  IPCLAB_CHAOS_POINT("mailbox.posix.before_receive");
  sys::Result<ssize_t> r;
  if (nowait) {
    timespec past{0, 0};
    r = sys::Retry("mq_timedreceive", name_,
                   [&] { return ::mq_timedreceive(mq_, p, buf_.size(), &prio, &past); });
    if (!r && r.error().err == ETIMEDOUT) {
      return sys::Fail("mq_timedreceive", name_, EAGAIN, "would block: mailbox empty");
    }
  } else if (deadline.is_never()) {
    r = sys::Retry("mq_receive", name_, [&] { return ::mq_receive(mq_, p, buf_.size(), &prio); });
  } else {
    r = sys::RetryUntil("mq_timedreceive", name_, deadline, [&](sys::Deadline d) {
      timespec at = d.realtime_timespec();
      return ::mq_timedreceive(mq_, p, buf_.size(), &prio, &at);
    });
  }
  if (!r) return std::unexpected(r.error());
  return Message{std::vector<std::byte>(buf_.begin(), buf_.begin() + *r), prio};
}

sys::Result<size_t> PosixMqMailbox::DoSize() {
  mq_attr attr{};
  auto r = sys::Call("mq_getattr", name_, [&] { return ::mq_getattr(mq_, &attr); });
  if (!r) return std::unexpected(r.error());
  return static_cast<size_t>(attr.mq_curmsgs);
}

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::mailbox
