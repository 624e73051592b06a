#include "ipc/mailbox/sysv_msg.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "ipc/audit/registry.h"

namespace ipc::mailbox {
IPCLAB_CHAOS_NAMESPACE_BEGIN
namespace {

long ReadMsgmnb() {
  std::ifstream in("/proc/sys/kernel/msgmnb");
  long v = -1;
  in >> v;
  return v;
}

long PriorityType(unsigned priority) { return 1 + static_cast<long>(kMaxPriority - priority); }
unsigned TypePriority(long mtype) { return kMaxPriority - static_cast<unsigned>(mtype - 1); }

}  // namespace

sys::Result<std::unique_ptr<SysvMsgMailbox>> SysvMsgMailbox::Create(std::string_view purpose,
                                                                     Options options) {
  if (options.capacity == 0 || options.max_message_size == 0) {
    return sys::Fail("msgget", purpose, EINVAL, "capacity and max_message_size must be positive");
  }
  auto id = sys::Call("msgget", fmt::format("IPC_PRIVATE ({})", purpose),
                      [] { return ::msgget(IPC_PRIVATE, IPC_CREAT | 0600); });
  if (!id) return std::unexpected(id.error());
  std::unique_ptr<SysvMsgMailbox> box(new SysvMsgMailbox(*id, options, Access::kSendReceive, true));
  // IPC_SET bumps msg_ctime, which keys the registry entry: set the size first, then register.
  msqid_ds ds{};
  auto st = sys::Call("msgctl(IPC_STAT)", box->Describe(), [&] { return ::msgctl(*id, IPC_STAT, &ds); });
  if (!st) {
    box->owner_pid_ = 0;
    ::msgctl(*id, IPC_RMID, nullptr);
    return std::unexpected(st.error());
  }
  ds.msg_qbytes = options.capacity * box->slot();
  auto set = sys::Call("msgctl(IPC_SET)", box->Describe(), [&] { return ::msgctl(*id, IPC_SET, &ds); });
  if (!set) {
    auto e = set.error();
    if (e.err == EPERM) {
      e.detail = fmt::format("{} messages of {} bytes need msg_qbytes {} > kernel.msgmnb {} "
                             "(needs CAP_SYS_RESOURCE)",
                             options.capacity, box->slot(), ds.msg_qbytes, ReadMsgmnb());
    }
    box->owner_pid_ = 0;
    ::msgctl(*id, IPC_RMID, nullptr);
    return std::unexpected(e);
  }
  if (auto reg = audit::RegisterSysv(audit::SysvKind::kMsg, *id, purpose); !reg) {
    box->owner_pid_ = 0;
    ::msgctl(*id, IPC_RMID, nullptr);
    return std::unexpected(reg.error());
  }
  return box;
}

sys::Result<std::unique_ptr<SysvMsgMailbox>> SysvMsgMailbox::Attach(int id, Options options,
                                                                     Access access) {
  msqid_ds ds{};
  auto st = sys::Call("msgctl(IPC_STAT)", fmt::format("sysv-msg {}", id),
                      [&] { return ::msgctl(id, IPC_STAT, &ds); });
  if (!st) return std::unexpected(st.error());
  if (ds.msg_perm.uid != ::geteuid()) {
    return sys::Fail("mailbox.attach", fmt::format("sysv-msg {}", id), EACCES,
                     fmt::format("queue owned by uid {}, not {}", ds.msg_perm.uid, ::geteuid()));
  }
  return std::unique_ptr<SysvMsgMailbox>(new SysvMsgMailbox(id, options, access, false));
}

SysvMsgMailbox::~SysvMsgMailbox() {
  if (owner_pid_ == ::getpid()) {
    ::msgctl(id_, IPC_RMID, nullptr);
    (void)audit::UnregisterSysv(audit::SysvKind::kMsg, id_);
  }
}

std::string SysvMsgMailbox::Describe() const { return fmt::format("sysv-msg {}", id_); }

sys::Status SysvMsgMailbox::Put(long mtype, std::span<const std::byte> data, sys::Deadline deadline,
                                bool nowait) {
  buf_.assign(sizeof(long) + slot(), std::byte{0});
  std::memcpy(buf_.data(), &mtype, sizeof(long));
  uint32_t len = static_cast<uint32_t>(data.size());
  std::memcpy(buf_.data() + sizeof(long), &len, 4);
  if (!data.empty()) std::memcpy(buf_.data() + sizeof(long) + 4, data.data(), data.size());
  const std::string what = Describe();
  IPCLAB_CHAOS_POINT("mailbox.sysv.before_send");
  if (!nowait && deadline.is_never()) {
    auto r = sys::Retry("msgsnd", what, [&] { return ::msgsnd(id_, buf_.data(), slot(), 0); });
    if (!r) return std::unexpected(r.error());
    return {};
  }
  auto backoff = std::chrono::microseconds(20);
  for (;;) {
    int r = ::msgsnd(id_, buf_.data(), slot(), IPC_NOWAIT);
    if (r == 0) return {};
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return sys::Fail("msgsnd", what);
    if (nowait) return sys::Fail("msgsnd", what, EAGAIN, "would block: mailbox full");
    if (deadline.expired()) return sys::Fail("msgsnd", what, ETIMEDOUT);
    std::this_thread::sleep_for(std::min<sys::Deadline::Clock::duration>(backoff, deadline.remaining()));
    backoff = std::min(backoff * 2, std::chrono::microseconds(1000));
  }
}

sys::Result<Message> SysvMsgMailbox::Take(long msgtyp, sys::Deadline deadline, bool nowait) {
  buf_.resize(sizeof(long) + slot());
  const std::string what = Describe();
  IPCLAB_CHAOS_POINT("mailbox.sysv.before_receive");
  auto decode = [&](ssize_t n) -> sys::Result<Message> {
    long mtype;
    std::memcpy(&mtype, buf_.data(), sizeof(long));
    uint32_t len = 0;
    if (n >= 4) std::memcpy(&len, buf_.data() + sizeof(long), 4);
    // Anyone with write permission can put bytes in the queue: check before trusting the length.
    if (n < 4 || len > static_cast<size_t>(n) - 4 || len > options_.max_message_size) {
      return sys::Fail("msgrcv", what, EBADMSG,
                       fmt::format("malformed slot: {} bytes, length field {}", n, len));
    }
    const std::byte* p = buf_.data() + sizeof(long) + 4;
    return Message{std::vector<std::byte>(p, p + len),
                   mtype < kAddressBase ? TypePriority(mtype) : 0u};
  };
  if (!nowait && deadline.is_never()) {
    auto n = sys::Retry("msgrcv", what, [&] { return ::msgrcv(id_, buf_.data(), slot(), msgtyp, 0); });
    if (!n) return std::unexpected(n.error());
    return decode(*n);
  }
  auto backoff = std::chrono::microseconds(20);
  for (;;) {
    ssize_t n = ::msgrcv(id_, buf_.data(), slot(), msgtyp, IPC_NOWAIT);
    if (n >= 0) return decode(n);
    if (errno == EINTR) continue;
    if (errno != ENOMSG) return sys::Fail("msgrcv", what);
    if (nowait) return sys::Fail("msgrcv", what, EAGAIN, "would block: mailbox empty");
    if (deadline.expired()) return sys::Fail("msgrcv", what, ETIMEDOUT);
    std::this_thread::sleep_for(std::min<sys::Deadline::Clock::duration>(backoff, deadline.remaining()));
    backoff = std::min(backoff * 2, std::chrono::microseconds(1000));
  }
}

sys::Status SysvMsgMailbox::DoSend(std::span<const std::byte> data, unsigned priority,
                                   sys::Deadline deadline, bool nowait) {
  return Put(PriorityType(priority), data, deadline, nowait);
}

sys::Result<Message> SysvMsgMailbox::DoReceive(sys::Deadline deadline, bool nowait) {
  return Take(-PriorityType(0), deadline, nowait);
}

sys::Status SysvMsgMailbox::SendTo(long address, std::span<const std::byte> data,
                                   sys::Deadline deadline) {
  if (access_ == Access::kReceive) {
    return sys::Fail("mailbox.send", Describe(), EPERM, "handle opened receive-only");
  }
  if (address < 1 || address > LONG_MAX - kAddressBase) {
    return sys::Fail("mailbox.send", Describe(), EINVAL, fmt::format("bad address {}", address));
  }
  if (data.size() > options_.max_message_size) {
    return sys::Fail("mailbox.send", Describe(), EMSGSIZE,
                     fmt::format("message of {} bytes over the limit of {} bytes", data.size(),
                                 options_.max_message_size));
  }
  return Put(kAddressBase + address, data, deadline, false);
}

sys::Result<Message> SysvMsgMailbox::ReceiveAt(long address, sys::Deadline deadline) {
  if (access_ == Access::kSend) {
    return sys::Fail("mailbox.receive", Describe(), EPERM, "handle opened send-only");
  }
  if (address < 1 || address > LONG_MAX - kAddressBase) {
    return sys::Fail("mailbox.receive", Describe(), EINVAL, fmt::format("bad address {}", address));
  }
  return Take(kAddressBase + address, deadline, false);
}

sys::Result<size_t> SysvMsgMailbox::DoSize() {
  msqid_ds ds{};
  auto r = sys::Call("msgctl(IPC_STAT)", Describe(), [&] { return ::msgctl(id_, IPC_STAT, &ds); });
  if (!r) return std::unexpected(r.error());
  return static_cast<size_t>(ds.msg_qnum);
}

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::mailbox
