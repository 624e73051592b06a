// ipc/mailbox: indirect communication through a bounded, prioritised mailbox.
//
// One interface, several kernels underneath:
//   PosixMqMailbox  (posix_mq.h)  mq_open/mq_timedsend/mq_timedreceive; pollable descriptor
//   SysvMsgMailbox  (sysv_msg.h)  msgget(IPC_PRIVATE)/msgsnd/msgrcv; message types as addresses
//   a shared-memory back-end is the planned third one. ipc/ring's MpmcBuffer (robust, bounded,
//   variable-size slots) is FIFO only, so it cannot keep the priority rule as it is: the back-end
//   needs per-priority order inside one segment (one slot pool, a FIFO list per priority under the
//   buffer's robust mutex). It then implements DoSend/DoReceive/DoSize and joins the `Backends`
//   list of mailbox_test.cc, which is the whole of its acceptance test.
//
// The contract (mailbox_test.cc runs it against every back-end, across processes):
//   - Send blocks while the mailbox holds `capacity` messages; TrySend fails at once with EAGAIN
//     ("would block"); SendFor gives ETIMEDOUT.
//   - Receive blocks until a message is there; TryReceive gives EAGAIN; ReceiveFor gives ETIMEDOUT.
//   - Messages come out highest priority first (0..kMaxPriority), first-in first-out within one
//     priority.
//   - Peek returns the message the next Receive on this handle will return, without blocking. To
//     do that on kernels that have no peek it moves the message from the queue into this handle:
//     other receivers no longer see it, and a higher-priority message that arrives after the Peek
//     comes after it. Use Peek with a single receiver.
//   - A message over max_message_size is refused with EMSGSIZE; a priority over kMaxPriority with
//     EINVAL; an operation the handle's Access does not allow with EPERM.
//   - Access control: mailboxes are created owner-only (0600); opening one that belongs to another
//     user is refused (EACCES), and a handle is opened send-only, receive-only or both.
//   - Signals: blocking calls retry after EINTR (a deadline still bounds the wait): a signal storm
//     neither loses nor duplicates a message.
//
// A handle is used by one thread at a time; threads and processes each use their own handle
// (a forked child may keep using the one it inherited).
//
// Typed messages travel as ipc/wire frames: SendFrame/ReceiveFrame, SendTyped/ReceiveTyped; a
// malformed frame is refused with the wire error (EPROTO, EBADMSG, ...).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"
#include "ipc/wire/wire.h"

namespace ipc::mailbox {

inline constexpr unsigned kMaxPriority = 31;  // POSIX guarantees at least 32 mq priorities

enum class Access { kSend, kReceive, kSendReceive };

struct Options {
  size_t capacity = 8;            // messages
  size_t max_message_size = 512;  // bytes
};

struct Message {
  std::vector<std::byte> data;
  unsigned priority = 0;
};

class Mailbox {
 public:
  virtual ~Mailbox() = default;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  sys::Status Send(std::span<const std::byte> data, unsigned priority = 0) {
    return SendUntil(data, priority, sys::Deadline::Never());
  }
  sys::Status TrySend(std::span<const std::byte> data, unsigned priority = 0);
  template <class Rep, class Period>
  sys::Status SendFor(std::span<const std::byte> data, unsigned priority,
                      std::chrono::duration<Rep, Period> timeout) {
    return SendUntil(data, priority, sys::Deadline::After(timeout));
  }
  sys::Status SendUntil(std::span<const std::byte> data, unsigned priority, sys::Deadline deadline);

  sys::Result<Message> Receive() { return ReceiveUntil(sys::Deadline::Never()); }
  sys::Result<Message> TryReceive();
  template <class Rep, class Period>
  sys::Result<Message> ReceiveFor(std::chrono::duration<Rep, Period> timeout) {
    return ReceiveUntil(sys::Deadline::After(timeout));
  }
  sys::Result<Message> ReceiveUntil(sys::Deadline deadline);

  // The next message of this handle without blocking; std::nullopt when none is there.
  sys::Result<std::optional<Message>> Peek();

  // Messages waiting (in the kernel, plus one held by Peek).
  sys::Result<size_t> size();
  size_t capacity() const { return options_.capacity; }
  size_t max_message_size() const { return options_.max_message_size; }
  Access access() const { return access_; }
  virtual std::string_view backend() const = 0;
  // A descriptor that polls readable when a message is waiting, where the kernel has one.
  virtual std::optional<int> poll_fd() const { return std::nullopt; }

 protected:
  Mailbox(Options options, Access access) : options_(options), access_(access) {}
  // Back-ends: `nowait` means fail with EAGAIN instead of blocking; otherwise block until the
  // deadline (ETIMEDOUT), retrying after EINTR. Sizes, priorities and access are checked already.
  virtual sys::Status DoSend(std::span<const std::byte> data, unsigned priority,
                             sys::Deadline deadline, bool nowait) = 0;
  virtual sys::Result<Message> DoReceive(sys::Deadline deadline, bool nowait) = 0;
  virtual sys::Result<size_t> DoSize() = 0;
  // A name for errors: "posix-mq /ipclab.1.ab.mbox".
  virtual std::string Describe() const = 0;

  Options options_;
  Access access_;

 private:
  sys::Status CheckSend(std::span<const std::byte> data, unsigned priority) const;
  sys::Status CheckReceive() const;
  std::optional<Message> peeked_;
};

// Typed messages over any back-end, as ipc/wire frames (the frame must fit max_message_size).
sys::Status SendFrame(Mailbox& box, uint16_t type, std::span<const std::byte> payload,
                      unsigned priority = 0, sys::Deadline deadline = sys::Deadline::Never());
sys::Result<wire::Frame> ReceiveFrame(Mailbox& box, sys::Deadline deadline = sys::Deadline::Never());

template <wire::WireMessage T>
sys::Status SendTyped(Mailbox& box, const T& msg, unsigned priority = 0,
                      sys::Deadline deadline = sys::Deadline::Never()) {
  return SendFrame(box, T::kWireType, std::as_bytes(std::span(&msg, 1)), priority, deadline);
}
template <wire::WireMessage T>
sys::Result<T> ReceiveTyped(Mailbox& box, sys::Deadline deadline = sys::Deadline::Never()) {
  auto m = box.ReceiveUntil(deadline);
  if (!m) return std::unexpected(m.error());
  return wire::DecodeTyped<T>(m->data);
}

}  // namespace ipc::mailbox
