#include "properties/lincheck.h"

#include <cstdlib>
#include <map>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace properties::lincheck {

rc::Gen<std::vector<Value>> NoArgs() { return rc::gen::just(std::vector<Value>{}); }

rc::Gen<std::vector<Value>> IntArgs(std::int64_t lo, std::int64_t hi) {
  return rc::gen::map(rc::gen::inRange<std::int64_t>(lo, hi + 1),
                      [](std::int64_t v) { return std::vector<Value>{v}; });
}

namespace internal {
namespace {

constexpr std::string_view kNonlinearizable = "lincheck: nonlinearizable outcome";

// Identical outcomes (same results, same real-time order) are checked once per scenario.
std::string HistoryKey(const History& h) {
  std::string key;
  for (const Operation& op : h) {
    key += fmt::format("{},{},{},{};", FormatValue(op.result), op.result.index(), op.invoke,
                       op.response ? static_cast<std::int64_t>(*op.response) : -1);
  }
  return key;
}

bool IsMarker(const lab::ReportStep& s) {
  return s.op == "progress" && s.where.find("lincheck.h:") != std::string::npos;
}

// Where each scenario thread's operations began and ended in the lab's steps, from the markers
// bracketing them; and which scenario thread each lab thread is (the k-th spawned by the body).
struct StepMap {
  std::map<lab::ThreadId, int> scenario_thread;
  // invoke/response marker steps per history index
  std::map<size_t, std::pair<lab::StepIndex, std::optional<lab::StepIndex>>> intervals;
  // the history index a step belongs to (steps inside an operation)
  std::map<lab::StepIndex, size_t> op_of_step;
  std::map<lab::StepIndex, bool> marker_is_invoke;
};

StepMap MapSteps(const lab::Report& report, const History& history) {
  StepMap m;
  int spawned = 0;
  for (const auto& s : report.schedule) {
    if (s.op == "spawn" && s.value >= 0) m.scenario_thread[static_cast<lab::ThreadId>(s.value)] = spawned++;
  }
  // history indices of each scenario thread's operations, in order
  std::map<int, std::vector<size_t>> ops;
  for (size_t i = 0; i < history.size(); ++i) ops[history[i].thread].push_back(i);
  std::map<int, size_t> markers_seen;
  std::map<int, std::optional<size_t>> current;  // the operation a thread is inside
  for (const auto& s : report.schedule) {
    auto t = m.scenario_thread.find(s.thread);
    if (t == m.scenario_thread.end()) continue;
    const int thread = t->second;
    if (IsMarker(s)) {
      size_t n = markers_seen[thread]++;
      size_t k = n / 2;
      if (k >= ops[thread].size()) continue;
      size_t index = ops[thread][k];
      if (n % 2 == 0) {
        m.intervals[index] = {s.step, std::nullopt};
        current[thread] = index;
        m.marker_is_invoke[s.step] = true;
      } else {
        m.intervals[index].second = s.step;
        current[thread].reset();
        m.marker_is_invoke[s.step] = false;
      }
      m.op_of_step[s.step] = index;
    } else if (current[thread]) {
      m.op_of_step[s.step] = *current[thread];
    }
  }
  return m;
}

std::string Interleaving(const lab::Report& report, const History& history, const StepMap& map) {
  std::string out = fmt::format(
      "The interleaving ({} steps, {} preemption{}; T<n> are the scenario's threads):\n",
      report.schedule.size(), report.preemptions, report.preemptions == 1 ? "" : "s");
  out += fmt::format("  {:>5}  {:<6} {:<40} {}\n", "step", "thread", "what", "where");
  for (const auto& s : report.schedule) {
    auto t = map.scenario_thread.find(s.thread);
    std::string who = t == map.scenario_thread.end() ? "main" : fmt::format("T{}", t->second);
    std::string what;
    std::string where = s.where;
    if (where.starts_with("./")) where = where.substr(2);
    auto op = map.op_of_step.find(s.step);
    if (IsMarker(s) && op != map.op_of_step.end()) {
      const Operation& o = history[op->second];
      what = map.marker_is_invoke.at(s.step) ? fmt::format("invokes {}", FormatCall(o))
                                             : fmt::format("{} returns", FormatOperation(o));
      where.clear();
    } else {
      what = s.op;
      if (!s.object.empty()) what += " " + s.object;
      if (s.op == "spawn") what += fmt::format(" T{}", map.scenario_thread.count(static_cast<lab::ThreadId>(s.value))
                                                          ? map.scenario_thread.at(static_cast<lab::ThreadId>(s.value))
                                                          : static_cast<int>(s.value));
      if (op != map.op_of_step.end()) what = fmt::format("  {}  (in {})", what, FormatCall(history[op->second]));
    }
    out += fmt::format("  {:>5}  {:<6} {:<40} {}\n", s.step, who, what, where);
  }
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ReplayHint(const ScenarioResult& r, const lab::Report& f) {
  std::string filter;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    filter = fmt::format("{}.{}", info->test_suite_name(), info->name());
  }
  const char* target = std::getenv("TEST_TARGET");  // set by `bazel test`
  std::string command =
      target ? fmt::format("bazel test {} --test_env=LINCHECK_SCENARIO --test_env=LAB_REPLAY{}", target,
                           filter.empty() ? "" : " --test_filter=" + filter)
             : fmt::format("<this test binary>{}", filter.empty() ? "" : " --gtest_filter=" + filter);
  return fmt::format("Replay: LINCHECK_SCENARIO={} LAB_REPLAY={} {}", ShellQuote(r.scenario.ToString()),
                     f.token, command);
}

}  // namespace

std::optional<Scenario> ScenarioFromEnv() {
  const char* text = std::getenv("LINCHECK_SCENARIO");
  if (!text || !*text) return std::nullopt;
  auto s = Scenario::Parse(text);
  if (!s) {
    RC_FAIL("LINCHECK_SCENARIO: " + s.error());
  }
  return *s;
}

void FailProperty(const ScenarioResult& r) { RC_FAIL(r.report); }

ScenarioResult RunScenario(const Erased& e, const Scenario& scenario, const Options& options) {
  ScenarioResult r;
  r.scenario = scenario;
  lab::Options lo = options.lab;
  lo.read_env = false;
  lo.quiet = true;
  if (lo.name.empty()) lo.name = "lincheck";
  if (const char* n = std::getenv("LINCHECK_SCHEDULES"); n && *n) lo.iterations = std::atoi(n);
  // Each scenario gets its own schedules (a fixed seed would replay the same priority draws for
  // every scenario), still a function of the scenario so that a rerun explores the same ones.
  lo.seed ^= std::hash<std::string>{}(scenario.ToString());

  std::unordered_map<std::string, Verdict> verdicts;
  History last;
  auto body = [&] {
    e.execute(scenario, &last);
    std::string key = HistoryKey(last);
    auto it = verdicts.find(key);
    if (it == verdicts.end()) {
      CheckResult c = e.check(last);
      if (c.verdict == Verdict::kUnknown) ++r.unknown;
      it = verdicts.emplace(std::move(key), c.verdict).first;
    }
    LAB_ASSERT_MSG(it->second != Verdict::kNotLinearizable, std::string(kNonlinearizable));
  };

  const char* replay = std::getenv("LAB_REPLAY");
  const bool replaying = replay && *replay && std::getenv("LINCHECK_SCENARIO");
  lab::ExploreResult x = replaying ? lab::Replay(replay, body, lo) : lab::Explore(lo, body);
  r.executions = x.executions;
  r.distinct_histories = verdicts.size();
  r.exhausted = x.exhausted;
  const std::string header =
      fmt::format("lincheck {}: scenario `{}` ({} threads, {} operations)", e.name,
                  scenario.ToString(), scenario.threads.size(), scenario.operation_count());
  if (x.clean()) {
    r.report = fmt::format("{}: linearizable in all {} schedules explored ({}{}), {} distinct outcomes{}\n",
                           header, x.executions, x.strategy, x.exhausted ? ", exhaustive" : "",
                           r.distinct_histories,
                           r.unknown ? fmt::format(", {} undecided within the search bound", r.unknown) : "");
    return r;
  }
  const lab::Report& f = x.findings.front();
  const bool nonlinearizable =
      f.kind == "assertion-failure" && f.summary.find(kNonlinearizable) != std::string::npos;
  r.kind = nonlinearizable ? "nonlinearizable" : f.kind;
  r.failing_execution = f.execution;
  r.token = f.token;

  // The reported schedule was shrunk: replay it to get the history that goes with it.
  lab::Options quiet = lo;
  (void)lab::Replay(f.token, body, quiet);
  // Operations a cut-short execution never began are not part of its history.
  History began;
  for (const Operation& op : last) {
    if (op.invoke != 0) began.push_back(op);
  }
  StepMap map = MapSteps(f, began);
  r.history = began;
  bool in_lab_steps = true;
  for (size_t i = 0; i < began.size(); ++i) {
    auto it = map.intervals.find(i);
    if (it == map.intervals.end() || (began[i].response && !it->second.second)) {
      in_lab_steps = false;
      break;
    }
    r.history[i].invoke = it->second.first;
    if (began[i].response) r.history[i].response = *it->second.second;
  }
  if (!in_lab_steps) r.history = began;  // markers not found: keep the order-of-events clock
  r.check = e.check(r.history);

  std::string out = header + "\n";
  out += fmt::format("{} in schedule {} of the {} explored ({}, seed {:#x}); {} distinct outcomes\n\n",
                     nonlinearizable ? "A nonlinearizable outcome" : "The lab found a " + f.kind,
                     f.execution + 1, x.executions, f.strategy, f.seed, r.distinct_histories);
  if (nonlinearizable) {
    out += r.check.explanation;
  } else {
    out += "The history up to the failure (-> ? never returned):\n" + FormatHistoryTable(r.history);
    out += "\n" + lab::RenderText(f, /*explain=*/true);
  }
  out += fmt::format("\n(intervals [invoke,response] in {})\n\n",
                     in_lab_steps ? "lab steps, as in the interleaving below" : "order of events");
  out += Interleaving(f, r.history, map);
  out += fmt::format("\nSchedule shrunk from {} to {} choices ({} replays); {}\n",
                     f.original_choices, f.shrunk_choices, f.shrink_attempts,
                     f.determinism.empty() ? "replay is deterministic" : f.determinism);
  out += fmt::format("Replay token: {}\n{}\n", f.token, ReplayHint(r, f));
  r.report = std::move(out);
  return r;
}

}  // namespace internal
}  // namespace properties::lincheck
