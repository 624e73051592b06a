// properties/planted/planted_mailbox.h: a TEST-ONLY in-process mailbox behind the
// ipc::mailbox::Mailbox interface with a planted priority inversion: it keeps priorities in a
// 4-bit field, so priority 16..31 rank as 0..15 and a priority-16 message comes out after a
// priority-1 one. Everything else (capacity, EAGAIN, FIFO within a priority) is right. Used by
// mailbox_model_property_test to show the model-based property catches and shrinks it.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "ipc/mailbox/mailbox.h"

namespace properties::planted {

class InvertedPriorityMailbox final : public ipc::mailbox::Mailbox {
 public:
  explicit InvertedPriorityMailbox(ipc::mailbox::Options options)
      : Mailbox(options, ipc::mailbox::Access::kSendReceive) {}
  std::string_view backend() const override { return "planted"; }

 protected:
  ipc::sys::Status DoSend(std::span<const std::byte> data, unsigned priority, ipc::sys::Deadline,
                          bool) override {
    if (queue_.size() >= options_.capacity) return ipc::sys::Fail("planted.send", "mailbox", EAGAIN);
    queue_.push_back({{{data.begin(), data.end()}, priority}, next_++});
    return {};
  }
  ipc::sys::Result<ipc::mailbox::Message> DoReceive(ipc::sys::Deadline, bool) override {
    if (queue_.empty()) return ipc::sys::Fail("planted.receive", "mailbox", EAGAIN);
    auto best = std::max_element(queue_.begin(), queue_.end(), [](const Entry& a, const Entry& b) {
      unsigned pa = a.message.priority & 0xf, pb = b.message.priority & 0xf;  // PLANTED BUG
      return pa != pb ? pa < pb : a.seq > b.seq;
    });
    auto m = std::move(best->message);
    queue_.erase(best);
    return m;
  }
  ipc::sys::Result<size_t> DoSize() override { return queue_.size(); }
  std::string Describe() const override { return "planted mailbox"; }

 private:
  struct Entry {
    ipc::mailbox::Message message;
    std::uint64_t seq;
  };
  std::vector<Entry> queue_;
  std::uint64_t next_ = 0;
};

}  // namespace properties::planted
