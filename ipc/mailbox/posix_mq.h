// ipc/mailbox/posix_mq.h: the POSIX message queue back-end of Mailbox.
//
// The queue is named /ipclab.<pid>.<random>.<purpose> (ipc/audit/names.h), created with
// O_CREAT | O_EXCL and mode 0600, and unlinked when the creating handle is destroyed (only in the
// creating process: a forked child's copy never unlinks). mq_maxmsg is the capacity and
// mq_msgsize the largest message; an unprivileged process may not exceed
// /proc/sys/fs/mqueue/msg_max (10 by default) and msgsize_max (8192), and the bytes of all its
// queues count against RLIMIT_MSGQUEUE. Create names the limit it hit. No /dev/mqueue mount is
// needed (it only serves listing).
//
// Blocking: mq_timedsend/mq_timedreceive with the deadline converted to CLOCK_REALTIME at the
// last moment, retried after EINTR. On Linux the mqd_t is a descriptor: poll_fd() polls readable
// when a message is waiting.
#pragma once

#include <mqueue.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "ipc/chaos/chaos.h"
#include "ipc/mailbox/mailbox.h"

namespace ipc::mailbox {
IPCLAB_CHAOS_NAMESPACE_BEGIN

class PosixMqMailbox final : public Mailbox {
 public:
  // A new queue, send and receive access.
  static sys::Result<std::unique_ptr<PosixMqMailbox>> Create(std::string_view purpose,
                                                              Options options);
  // Another handle on an existing queue (its limits are read from the queue). EACCES for a queue
  // of another user.
  static sys::Result<std::unique_ptr<PosixMqMailbox>> Open(const std::string& name, Access access);
  ~PosixMqMailbox() override;

  const std::string& name() const { return name_; }
  std::string_view backend() const override { return "posix-mq"; }
  std::optional<int> poll_fd() const override { return static_cast<int>(mq_); }

 protected:
  sys::Status DoSend(std::span<const std::byte> data, unsigned priority, sys::Deadline deadline,
                     bool nowait) override;
  sys::Result<Message> DoReceive(sys::Deadline deadline, bool nowait) override;
  sys::Result<size_t> DoSize() override;
  std::string Describe() const override;

 private:
  PosixMqMailbox(std::string name, mqd_t mq, Options options, Access access, bool owner)
      : Mailbox(options, access), name_(std::move(name)), mq_(mq), owner_pid_(owner ? ::getpid() : 0) {}
  std::string name_;
  mqd_t mq_;
  pid_t owner_pid_;  // the process that unlinks the name; 0 for handles made by Open
  std::vector<std::byte> buf_;
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::mailbox
