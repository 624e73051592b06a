// stress/stream_ledger.h: exactly-once accounting of per-writer message streams whose writers
// and reader are SIGKILLed, kept in shared memory (placement-new it into a segment).
//
// Writers (at-least-once): BeginSend(w) records the seq about to go (`sending` = sent + 1) before
// the send, Sent(w, seq) after it returned. A writer killed in between leaves sending > sent, so
// the next incarnation sends that same seq again (same content, a newer incarnation in the
// message): the message may now be in the channel twice.
//
// Reader (dedupe): Accept(writer, seq, incarnation) takes seq = last + 1; seq = last again only
// from a newer incarnation of its writer (a resend, counted); any other duplicate, gap or
// reordering is a finding.
//
// Reader crashes: a message the reader had taken out of the channel (mq_receive, msgrcv, read)
// when it was killed, before it recorded it, is gone: the documented loss, at most one message
// per receiver killed inside a receive. BeginReceive/EndReceive bracket each receive; the next
// reader incarnation calls TakeOver(), which grants one allowed gap when the bracket was left
// open (the driver calls it too before a final drain). Accept then takes a gap of k messages
// (seq = last + 1 + k) against k unused grants (counted lost: consecutive reader deaths may each
// take a message of the same writer); CheckEnd counts the messages that never arrived at the end
// of a stream against the grants too. A grant is a bound, not a claim: a reader killed while blocked in an
// empty receive took nothing and its grant stays unused.
//
// One reader at a time (the respawned incarnation, or the driver once every participant ended).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace stress {

class StreamLedger {
 public:
  static constexpr int kMaxWriters = 8;
  explicit StreamLedger(int writers);

  int writers() const { return writers_; }

  // --- Writer side (writer w's current incarnation).
  void WriterStarted(int w);  // records its pid (AllWritersEnded)
  std::uint64_t BeginSend(int w);  // the seq to send now (a killed predecessor's, if it left one)
  void Sent(int w, std::uint64_t seq);
  void WriterDone(int w);  // left its loop after the stop flag
  // Every writer has called WriterDone, or its last started incarnation is dead (checked after
  // the stop flag, when no new incarnation starts).
  bool AllWritersEnded() const;

  // --- Reader side.
  void TakeOver();  // a reader incarnation starts (or the driver before its final drain)
  void BeginReceive() { receiving_.store(1); }
  void EndReceive() { receiving_.store(0); }
  // "" when the message is the next of its writer (or a permitted resend or gap), else why not.
  std::string Accept(std::uint64_t writer, std::uint64_t seq, std::uint64_t incarnation);

  // --- End of run, after the final drain: "" when every writer's stream is complete but for
  // losses within the grants; `resent` and `lost` for the report.
  std::string CheckEnd(std::uint64_t* resent, std::uint64_t* lost) const;

 private:
  struct Writer {
    std::atomic<std::uint64_t> sending{0};      // seq of the send under way (or last begun)
    std::atomic<std::uint64_t> sent{0};         // last seq whose send returned
    std::atomic<std::uint64_t> received{0};     // last seq the reader took
    std::atomic<std::uint64_t> incarnation{0};  // of the last message the reader took
    std::atomic<std::int32_t> pid{0};           // the current incarnation
    std::atomic<std::uint32_t> done{0};
  };
  int writers_;
  Writer w_[kMaxWriters];
  std::atomic<std::uint32_t> receiving_{0};
  std::atomic<std::uint64_t> granted_{0};  // receivers killed inside a receive
  std::atomic<std::uint64_t> gaps_{0};     // gaps Accept took against them
  std::atomic<std::uint64_t> resent_{0};
};

}  // namespace stress
