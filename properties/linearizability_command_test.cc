// `ipclab linearizable`: exit status and output on linearizable, nonlinearizable, malformed and
// unreadable histories.
#include "properties/linearizability_command.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

namespace properties {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

int RunCommand(std::vector<std::string> argv) {
  CLI::App app;
  CLI::App* sub = app.add_subcommand("linearizable");
  auto run = SetupLinearizableCommand(*sub);
  argv.insert(argv.begin(), "linearizable");
  std::vector<const char*> raw = {"ipclab"};
  for (const auto& a : argv) raw.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(raw.size()), const_cast<char**>(raw.data()));
  } catch (const CLI::ParseError&) {
    return 2;
  }
  return run();
}

constexpr const char* kFifoViolation = R"([
  {"thread": 0, "op": "push", "args": [1], "invoke": 0, "response": 1},
  {"thread": 0, "op": "push", "args": [2], "invoke": 2, "response": 3},
  {"thread": 1, "op": "pop", "result": 2, "invoke": 4, "response": 5}
])";

TEST(LinearizableCommand, ExitStatusFollowsTheVerdict) {
  EXPECT_EQ(RunCommand({"--model", "queue", WriteTemp("bad.json", kFifoViolation)}), 1);
  std::string ok = R"({"operations": [
    {"thread": 0, "op": "push", "args": [1], "invoke": 0, "response": 5},
    {"thread": 1, "op": "pop", "result": "empty", "invoke": 1, "response": 2},
    {"thread": 1, "op": "pop", "result": 1, "invoke": 3, "response": null}
  ]})";
  EXPECT_EQ(RunCommand({"--model", "queue", WriteTemp("ok.json", ok)}), 0);
  EXPECT_EQ(RunCommand({"--model", "queue", "--json", WriteTemp("bad2.json", kFifoViolation)}), 1);
}

TEST(LinearizableCommand, BadInputIsAUsageError) {
  EXPECT_EQ(RunCommand({"--model", "queue", "/nonexistent/history.json"}), 2);
  EXPECT_EQ(RunCommand({"--model", "queue", WriteTemp("notjson.json", "{")}), 2);
  EXPECT_EQ(RunCommand({"--model", "deque", WriteTemp("q.json", kFifoViolation)}), 2);
  EXPECT_EQ(RunCommand({"--model", "queue", WriteTemp("nothread.json", R"([{"op": "pop", "invoke": 0}])")}), 2);
  EXPECT_EQ(RunCommand({"--model", "register",
                 WriteTemp("overlap.json", R"([{"thread": 0, "op": "read", "result": 0, "invoke": 0, "response": 5},
                                               {"thread": 0, "op": "read", "result": 0, "invoke": 3, "response": 6}])")}),
            2);
  EXPECT_EQ(RunCommand({"queue.json"}), 2);  // --model is required
}

TEST(LinearizableCommand, JsonRoundTrip) {
  auto h = HistoryFromJson(nlohmann::json::parse(kFifoViolation));
  ASSERT_TRUE(h.has_value()) << h.error();
  auto again = HistoryFromJson(HistoryToJson(*h));
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->size(), h->size());
  for (size_t i = 0; i < h->size(); ++i) {
    EXPECT_EQ(FormatOperation((*again)[i]), FormatOperation((*h)[i]));
    EXPECT_EQ((*again)[i].invoke, (*h)[i].invoke);
    EXPECT_EQ((*again)[i].response, (*h)[i].response);
  }
}

}  // namespace
}  // namespace properties
