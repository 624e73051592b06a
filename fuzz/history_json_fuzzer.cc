// Fuzzes the reader of recorded histories, the trace files `ipclab linearizable --model M
// history.json` reads (properties/linearizability_command.h): any bytes must be refused as JSON,
// refused by HistoryFromJson with a message, or read into a history that writes back to JSON and
// reads again to the same JSON (the format round-trips). Small histories are then checked against
// every model with a bounded search: the checker must give a verdict (never crash, hang or read
// out of bounds on a malformed history: responses before invokes, unknown operations, missing
// arguments), and a linearizable verdict's order must name distinct operations of the history.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "properties/linearizability.h"
#include "properties/linearizability_command.h"
#include "properties/models.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "history_json_fuzzer: %s\n", what.c_str());
  std::abort();
}

template <typename M>
void CheckAgainst(const properties::History& h, const M& model) {
  properties::CheckOptions options;
  options.max_search_steps = 20'000;
  properties::CheckResult r = properties::CheckLinearizable(h, model, options);
  switch (r.verdict) {
    case properties::Verdict::kLinearizable: {
      std::set<size_t> seen;
      for (size_t i : r.order) {
        if (i >= h.size() || !seen.insert(i).second) Fail("linearizable order names a bad or repeated operation");
      }
      break;
    }
    case properties::Verdict::kNotLinearizable:
    case properties::Verdict::kMalformed:
      if (r.explanation.empty()) Fail("a negative verdict without an explanation");
      break;
    case properties::Verdict::kUnknown:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto history = properties::HistoryFromJson(j);
  if (!history) {
    if (history.error().empty()) Fail("a history refused without saying why");
    return 0;
  }
  nlohmann::json written = properties::HistoryToJson(*history);
  auto again = properties::HistoryFromJson(written);
  if (!again) Fail("its own output refused: " + again.error());
  if (properties::HistoryToJson(*again) != written) Fail("the history does not round-trip through JSON");
  if (history->size() > 12) return 0;  // the checks below are exponential in the worst case
  CheckAgainst(*history, properties::RegisterModel());
  CheckAgainst(*history, properties::CounterModel());
  CheckAgainst(*history, properties::QueueModel());
  CheckAgainst(*history, properties::StackModel());
  CheckAgainst(*history, properties::MapModel());
  return 0;
}
