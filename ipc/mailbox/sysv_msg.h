// ipc/mailbox/sysv_msg.h: the System V message queue back-end of Mailbox.
//
// The queue is made with msgget(IPC_PRIVATE, 0600), recorded in the ipc/audit registry (so the
// leak audit and the reaper know it) and removed (IPC_RMID, then unregistered) when the creating
// handle is destroyed in the creating process.
//
// Message types do two jobs, in two bands:
//   - priorities: mtype 1..32 is priority 31..0. Receive asks msgrcv for the lowest mtype <= 32,
//     which is the highest priority, FIFO within one;
//   - addresses: mtype kAddressBase + address. SendTo(address)/ReceiveAt(address) put and take only
//     that address's messages (a server answers each client at its pid, say). Ordinary Receive
//     never takes addressed messages.
//
// Capacity: the kernel limits a queue by bytes (msg_qbytes), not messages. Every message is
// therefore sent as a fixed-size slot (4-byte length + max_message_size bytes) and msg_qbytes is
// set to capacity slots, which makes the limit exactly `capacity` messages. Raising msg_qbytes over
// kernel.msgmnb (16384 by default) needs CAP_SYS_RESOURCE; Create says so when it fails.
//
// Timeouts: msgsnd/msgrcv have none. Without a deadline they block in the kernel (EINTR retried);
// with one they poll with IPC_NOWAIT, backing off from 20 us to 1 ms, until the deadline.
#pragma once

#include <sys/types.h>

#include <memory>

#include "ipc/chaos/chaos.h"
#include "ipc/mailbox/mailbox.h"

namespace ipc::mailbox {
IPCLAB_CHAOS_NAMESPACE_BEGIN

class SysvMsgMailbox final : public Mailbox {
 public:
  static constexpr long kAddressBase = 64;

  static sys::Result<std::unique_ptr<SysvMsgMailbox>> Create(std::string_view purpose,
                                                              Options options);
  // Another handle on an existing queue made by Create with these options. EACCES for a queue of
  // another user.
  static sys::Result<std::unique_ptr<SysvMsgMailbox>> Attach(int id, Options options, Access access);
  ~SysvMsgMailbox() override;

  int id() const { return id_; }
  std::string_view backend() const override { return "sysv-msg"; }

  // Addressed messages (address >= 1).
  sys::Status SendTo(long address, std::span<const std::byte> data,
                     sys::Deadline deadline = sys::Deadline::Never());
  sys::Result<Message> ReceiveAt(long address, sys::Deadline deadline = sys::Deadline::Never());

 protected:
  sys::Status DoSend(std::span<const std::byte> data, unsigned priority, sys::Deadline deadline,
                     bool nowait) override;
  sys::Result<Message> DoReceive(sys::Deadline deadline, bool nowait) override;
  sys::Result<size_t> DoSize() override;
  std::string Describe() const override;

 private:
  SysvMsgMailbox(int id, Options options, Access access, bool owner)
      : Mailbox(options, access), id_(id), owner_pid_(owner ? ::getpid() : 0) {}
  size_t slot() const { return 4 + options_.max_message_size; }
  sys::Status Put(long mtype, std::span<const std::byte> data, sys::Deadline deadline, bool nowait);
  sys::Result<Message> Take(long msgtyp, sys::Deadline deadline, bool nowait);

  int id_;
  pid_t owner_pid_;
  std::vector<std::byte> buf_;  // long mtype + slot, suitably aligned
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::mailbox
