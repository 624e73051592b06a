#include "stress/stream_ledger.h"

#include <gtest/gtest.h>

namespace stress {
namespace {

// Writer 0 sends seqs 1..n (recorded), as one incarnation would.
void SendRecorded(StreamLedger& l, int n) {
  for (int i = 0; i < n; ++i) l.Sent(0, l.BeginSend(0));
}

TEST(StreamLedger, InOrderStreamsAreComplete) {
  StreamLedger l(2);
  SendRecorded(l, 3);
  for (std::uint64_t s = 1; s <= 3; ++s) EXPECT_EQ(l.Accept(0, s, 0), "");
  std::uint64_t resent = 9, lost = 9;
  EXPECT_EQ(l.CheckEnd(&resent, &lost), "");
  EXPECT_EQ(resent, 0u);
  EXPECT_EQ(lost, 0u);
}

TEST(StreamLedger, ADuplicateIsAcceptedOnlyAsANewerIncarnationsResend) {
  StreamLedger l(1);
  EXPECT_EQ(l.Accept(0, 1, 0), "");
  EXPECT_NE(l.Accept(0, 1, 0).find("duplicate"), std::string::npos);
  EXPECT_EQ(l.Accept(0, 1, 1), "");  // incarnation 1 sends seq 1 again
  EXPECT_NE(l.Accept(0, 1, 1).find("duplicate"), std::string::npos);
  EXPECT_EQ(l.Accept(0, 2, 1), "");
  EXPECT_NE(l.Accept(0, 1, 2).find("duplicate"), std::string::npos);  // not the last seq
  EXPECT_NE(l.Accept(3, 1, 0).find("unknown writer"), std::string::npos);
}

TEST(StreamLedger, AGapIsAcceptedOnlyAfterAReaderWasKilledInsideAReceive) {
  StreamLedger l(1);
  SendRecorded(l, 7);
  EXPECT_EQ(l.Accept(0, 1, 0), "");
  EXPECT_NE(l.Accept(0, 3, 0).find("1 lost"), std::string::npos);
  l.TakeOver();  // the predecessor was not inside a receive: no grant
  EXPECT_NE(l.Accept(0, 3, 0), "");
  l.BeginReceive();
  l.TakeOver();  // ... now it was: one gap
  EXPECT_EQ(l.Accept(0, 3, 0), "");
  EXPECT_NE(l.Accept(0, 5, 0), "");  // only one
  EXPECT_EQ(l.Accept(0, 4, 0), "");
  l.BeginReceive();
  l.EndReceive();
  l.TakeOver();
  EXPECT_NE(l.Accept(0, 6, 0).find("1 lost"), std::string::npos) << "a closed bracket grants nothing";
  for (int i = 0; i < 2; ++i) {  // two readers killed inside a receive: a gap of two
    l.BeginReceive();
    l.TakeOver();
  }
  EXPECT_NE(l.Accept(0, 8, 0).find("3 lost"), std::string::npos);
  EXPECT_EQ(l.Accept(0, 7, 0), "");
  std::uint64_t resent = 0, lost = 0;
  EXPECT_EQ(l.CheckEnd(&resent, &lost), "");
  EXPECT_EQ(lost, 3u);
}

TEST(StreamLedger, TheEndAllowsTheUnrecordedSendAndGrantedLossesOnly) {
  StreamLedger l(2);
  SendRecorded(l, 2);
  EXPECT_EQ(l.Accept(0, 1, 0), "");
  EXPECT_EQ(l.Accept(0, 2, 0), "");
  // Writer 1 is killed after its send went through, before recording it: the reader has seq 1.
  EXPECT_EQ(l.BeginSend(1), 1u);
  EXPECT_EQ(l.Accept(1, 1, 0), "");
  std::uint64_t resent = 0, lost = 0;
  EXPECT_EQ(l.CheckEnd(&resent, &lost), "");
  // Writer 0 sends a third message, which a killed reader took with it.
  l.Sent(0, l.BeginSend(0));
  EXPECT_NE(l.CheckEnd(&resent, &lost).find("writer 0 sent 3, the reader got 2"), std::string::npos);
  l.BeginReceive();
  l.TakeOver();
  EXPECT_EQ(l.CheckEnd(&resent, &lost), "");
  EXPECT_EQ(lost, 1u);
  // Beyond what was being sent is never fine.
  EXPECT_EQ(l.Accept(1, 2, 0), "");
  EXPECT_NE(l.CheckEnd(&resent, &lost).find("writer 1 sent 0"), std::string::npos);
}

}  // namespace
}  // namespace stress
