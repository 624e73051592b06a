#include "ipc/mailbox/mailbox.h"

#include <cerrno>

#include <fmt/format.h>

namespace ipc::mailbox {

sys::Status Mailbox::CheckSend(std::span<const std::byte> data, unsigned priority) const {
  if (access_ == Access::kReceive) {
    return sys::Fail("mailbox.send", Describe(), EPERM, "handle opened receive-only");
  }
  if (data.size() > options_.max_message_size) {
    return sys::Fail("mailbox.send", Describe(), EMSGSIZE,
                     fmt::format("message of {} bytes over the limit of {} bytes", data.size(),
                                 options_.max_message_size));
  }
  if (priority > kMaxPriority) {
    return sys::Fail("mailbox.send", Describe(), EINVAL,
                     fmt::format("priority {} over the maximum {}", priority, kMaxPriority));
  }
  return {};
}

sys::Status Mailbox::CheckReceive() const {
  if (access_ == Access::kSend) {
    return sys::Fail("mailbox.receive", Describe(), EPERM, "handle opened send-only");
  }
  return {};
}

sys::Status Mailbox::TrySend(std::span<const std::byte> data, unsigned priority) {
  if (auto ok = CheckSend(data, priority); !ok) return ok;
  return DoSend(data, priority, sys::Deadline::Never(), /*nowait=*/true);
}

sys::Status Mailbox::SendUntil(std::span<const std::byte> data, unsigned priority,
                               sys::Deadline deadline) {
  if (auto ok = CheckSend(data, priority); !ok) return ok;
  return DoSend(data, priority, deadline, /*nowait=*/false);
}

sys::Result<Message> Mailbox::TryReceive() {
  if (auto ok = CheckReceive(); !ok) return std::unexpected(ok.error());
  if (peeked_) return *std::exchange(peeked_, std::nullopt);
  return DoReceive(sys::Deadline::Never(), /*nowait=*/true);
}

sys::Result<Message> Mailbox::ReceiveUntil(sys::Deadline deadline) {
  if (auto ok = CheckReceive(); !ok) return std::unexpected(ok.error());
  if (peeked_) return *std::exchange(peeked_, std::nullopt);
  return DoReceive(deadline, /*nowait=*/false);
}

sys::Result<std::optional<Message>> Mailbox::Peek() {
  if (auto ok = CheckReceive(); !ok) return std::unexpected(ok.error());
  if (!peeked_) {
    auto m = DoReceive(sys::Deadline::Never(), /*nowait=*/true);
    if (!m) {
      if (m.error().err == EAGAIN) return std::optional<Message>();
      return std::unexpected(m.error());
    }
    peeked_ = std::move(*m);
  }
  return peeked_;
}

sys::Result<size_t> Mailbox::size() {
  auto n = DoSize();
  if (!n) return n;
  return *n + (peeked_ ? 1 : 0);
}

sys::Status SendFrame(Mailbox& box, uint16_t type, std::span<const std::byte> payload,
                      unsigned priority, sys::Deadline deadline) {
  if (box.max_message_size() < wire::kHeaderSize) {
    return sys::Fail("mailbox.send", "frame", EMSGSIZE, "mailbox messages too small for a frame");
  }
  auto f = wire::Encode(type, payload, 0, box.max_message_size() - wire::kHeaderSize);
  if (!f) return std::unexpected(f.error());
  return box.SendUntil(*f, priority, deadline);
}

sys::Result<wire::Frame> ReceiveFrame(Mailbox& box, sys::Deadline deadline) {
  auto m = box.ReceiveUntil(deadline);
  if (!m) return std::unexpected(m.error());
  auto v = wire::Decode(m->data);
  if (!v) return std::unexpected(v.error());
  return wire::Frame{v->header, std::vector<std::byte>(v->payload.begin(), v->payload.end())};
}

}  // namespace ipc::mailbox
