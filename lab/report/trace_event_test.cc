#include "lab/report/trace_event.h"

#include <gtest/gtest.h>

namespace lab {
namespace {

using nlohmann::json;

TEST(TraceEventTest, EmptyTraceIsValid) {
  TraceEventWriter w;
  json j = json::parse(w.Dump());
  EXPECT_EQ(j["displayTimeUnit"], "ns");
  ASSERT_TRUE(j["traceEvents"].is_array());
  EXPECT_TRUE(j["traceEvents"].empty());
}

TEST(TraceEventTest, WritesEveryKindOfEvent) {
  TraceEventWriter w;
  w.ProcessName(1, "lab execution 7");
  w.ThreadName(1, 0, "main");
  w.ThreadName(1, 1, "worker \"1\"");  // quoting is JSON's business
  w.Complete(1, 0, "lock m", 0, 1, {{"object", 3}, {"where", "a.cc:12"}});
  w.Complete(1, 1, "read x", 1, 1, nullptr, "access");
  w.Instant(1, 1, "data-race", 2, {{"location", 5}});
  w.Flow(42, 1, 0, 0.5, 1, 1, 1.5, "unlock->lock");
  EXPECT_EQ(w.size(), 8u);

  json j = json::parse(w.Dump(2));
  const json& ev = j["traceEvents"];
  ASSERT_EQ(ev.size(), 8u);
  EXPECT_EQ(ev[0]["ph"], "M");
  EXPECT_EQ(ev[0]["name"], "process_name");
  EXPECT_EQ(ev[0]["args"]["name"], "lab execution 7");
  EXPECT_EQ(ev[2]["name"], "thread_name");
  EXPECT_EQ(ev[2]["tid"], 1);
  EXPECT_EQ(ev[2]["args"]["name"], "worker \"1\"");

  EXPECT_EQ(ev[3]["ph"], "X");
  EXPECT_EQ(ev[3]["cat"], "lab");
  EXPECT_EQ(ev[3]["ts"], 0.0);
  EXPECT_EQ(ev[3]["dur"], 1.0);
  EXPECT_EQ(ev[3]["args"]["where"], "a.cc:12");
  EXPECT_EQ(ev[4]["cat"], "access");
  EXPECT_FALSE(ev[4].contains("args"));

  EXPECT_EQ(ev[5]["ph"], "i");
  EXPECT_EQ(ev[5]["s"], "t");
  EXPECT_EQ(ev[5]["args"]["location"], 5);

  EXPECT_EQ(ev[6]["ph"], "s");
  EXPECT_EQ(ev[7]["ph"], "f");
  EXPECT_EQ(ev[7]["bp"], "e");
  EXPECT_EQ(ev[6]["id"], ev[7]["id"]);
  EXPECT_EQ(ev[6]["tid"], 0);
  EXPECT_EQ(ev[7]["tid"], 1);
  EXPECT_EQ(ev[7]["ts"], 1.5);
  EXPECT_EQ(j, w.ToJson());
}

TEST(TraceEventTest, NonObjectArgsAreWrapped) {
  TraceEventWriter w;
  w.Instant(1, 0, "note", 0, "plain text");
  EXPECT_EQ(w.ToJson()["traceEvents"][0]["args"]["value"], "plain text");
}

TEST(TraceEventTest, ClearEmpties) {
  TraceEventWriter w;
  w.Instant(1, 0, "x", 0);
  w.Clear();
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace lab
