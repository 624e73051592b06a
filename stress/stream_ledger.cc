#include "stress/stream_ledger.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "stress/proc.h"

namespace stress {

StreamLedger::StreamLedger(int writers) : writers_(writers) {
  if (writers < 1 || writers > kMaxWriters) std::abort();
}

void StreamLedger::WriterStarted(int w) { w_[w].pid.store(::getpid()); }

std::uint64_t StreamLedger::BeginSend(int w) {
  std::uint64_t seq = w_[w].sent.load() + 1;
  w_[w].sending.store(seq);
  return seq;
}

void StreamLedger::Sent(int w, std::uint64_t seq) { w_[w].sent.store(seq); }

void StreamLedger::WriterDone(int w) { w_[w].done.store(1); }

bool StreamLedger::AllWritersEnded() const {
  for (int w = 0; w < writers_; ++w) {
    if (w_[w].done.load() == 0 && Running(w_[w].pid.load())) return false;
  }
  return true;
}

void StreamLedger::TakeOver() {
  if (receiving_.exchange(0) != 0) granted_.fetch_add(1);
}

std::string StreamLedger::Accept(std::uint64_t writer, std::uint64_t seq, std::uint64_t incarnation) {
  if (writer >= static_cast<std::uint64_t>(writers_)) return fmt::format("unknown writer {}", writer);
  Writer& s = w_[writer];
  std::uint64_t last = s.received.load();
  if (seq == last && last > 0 && incarnation > s.incarnation.load()) {
    resent_.fetch_add(1);  // the next incarnation of a writer killed after its send, before its record
  } else if (seq > last + 1 && seq - last - 1 <= granted_.load() - gaps_.load()) {
    gaps_.fetch_add(seq - last - 1);  // each went down with a reader killed inside its receive
  } else if (seq != last + 1) {
    return fmt::format("writer {}: seq {} (incarnation {}) after {} (incarnation {}): {}", writer, seq,
                       incarnation, last, s.incarnation.load(),
                       seq <= last ? "duplicate" : fmt::format("{} lost", seq - last - 1));
  }
  // Incarnation first: a reader killed between the two stores leaves the older seq with the newer
  // incarnation, which can only make a later resend look like a plain next message.
  s.incarnation.store(incarnation);
  s.received.store(seq);
  return {};
}

std::string StreamLedger::CheckEnd(std::uint64_t* resent, std::uint64_t* lost) const {
  std::uint64_t missing = 0;
  std::string why;
  for (int w = 0; w < writers_; ++w) {
    std::uint64_t got = w_[w].received.load(), sent = w_[w].sent.load(), sending = w_[w].sending.load();
    // got == sending > sent: the last incarnation was killed after its send went through and
    // before it recorded it (and none came after to send it again).
    if (got > sent && got != sending) {
      return fmt::format("writer {} sent {} messages (was sending {}), the reader got {}", w, sent, sending, got);
    }
    if (got < sent) {
      missing += sent - got;
      why += fmt::format("{}writer {} sent {}, the reader got {}", why.empty() ? "" : "; ", w, sent, got);
    }
  }
  *resent = resent_.load();
  *lost = gaps_.load() + missing;
  if (*lost > granted_.load()) {
    return fmt::format("{} messages lost ({} gaps, {} missing at the end: {}), but only {} readers were killed "
                       "inside a receive",
                       *lost, gaps_.load(), missing, why, granted_.load());
  }
  return {};
}

}  // namespace stress
