#include "lab/explore.h"

#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "lab/detect/lock_order.h"
#include "lab/report/html.h"
#include "lab/report/shrink.h"
#include "lab/report/token.h"
#include "lab/rt/execution.h"
#include "lab/rt/fiber_backend.h"
#include "lab/strategy/dfs.h"
#include "lab/strategy/pct.h"
#include "lab/strategy/random.h"
#include "lab/strategy/replay.h"

namespace lab {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

bool ParseU64(const char* text, std::uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 0);
  if (errno || end == text || *end) return false;
  *out = v;
  return true;
}

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "lab: %s\n", message.c_str());
  std::exit(2);
}

// Parses "random", "pct", "pct:3", "dfs", "dfs:2".
StrategySpec ParseStrategy(std::string_view s) {
  auto colon = s.find(':');
  std::string_view name = s.substr(0, colon);
  std::uint64_t arg = 0;
  bool has_arg = colon != std::string_view::npos;
  if (has_arg && !ParseU64(std::string(s.substr(colon + 1)).c_str(), &arg)) {
    UsageError(fmt::format("LAB_STRATEGY={} has a bad number (valid: random, pct[:depth], dfs[:bound])", s));
  }
  if (name == "random") return Random{};
  if (name == "pct") return Pct{.depth = has_arg ? static_cast<int>(arg) : 3};
  if (name == "dfs") return Dfs{.max_preemptions = has_arg ? static_cast<int>(arg) : -1};
  UsageError(fmt::format("LAB_STRATEGY={} is not a strategy (valid: random, pct[:depth], dfs[:bound])", s));
}

std::unique_ptr<Strategy> MakeStrategy(const StrategySpec& spec) {
  if (auto* p = std::get_if<Pct>(&spec)) return std::make_unique<PctStrategy>(p->depth);
  if (auto* d = std::get_if<Dfs>(&spec)) return std::make_unique<DfsStrategy>(d->max_preemptions);
  return std::make_unique<RandomStrategy>();
}

std::string StrategyLabel(const StrategySpec& spec) {
  if (auto* p = std::get_if<Pct>(&spec)) return fmt::format("pct{}", p->depth);
  if (auto* d = std::get_if<Dfs>(&spec)) {
    return d->max_preemptions < 0 ? std::string("dfs") : fmt::format("dfs{}", d->max_preemptions);
  }
  return "random";
}

Options WithEnv(Options o) {
  if (!o.read_env) return o;
  std::uint64_t v = 0;
  if (const char* s = Env("LAB_ITERATIONS")) {
    if (!ParseU64(s, &v) || v == 0) UsageError(fmt::format("LAB_ITERATIONS={} must be a positive integer", s));
    o.iterations = static_cast<int>(v);
  }
  if (const char* s = Env("LAB_SEED")) {
    if (!ParseU64(s, &v)) UsageError(fmt::format("LAB_SEED={} must be an integer", s));
    o.seed = v;
  }
  if (const char* s = Env("LAB_STRATEGY")) o.strategy = ParseStrategy(s);
  if (const char* s = Env("LAB_WATCHDOG_SECONDS")) {
    char* end = nullptr;
    double d = std::strtod(s, &end);
    if (end == s || *end || d < 0) UsageError(fmt::format("LAB_WATCHDOG_SECONDS={} must be a number of seconds", s));
    o.watchdog_seconds = d;
  }
  return o;
}

rt::ExecutionConfig ConfigOf(const Options& o, double watchdog_deadline) {
  rt::ExecutionConfig c;
  c.max_steps = o.max_steps;
  c.starvation_bound = o.starvation_bound;
  c.spurious_wakeups = o.spurious_wakeups;
  c.tick_ns = o.tick_ns;
  c.watchdog_deadline = watchdog_deadline;
  return c;
}

// One execution of a fixed schedule.
rt::ExecutionRecord RunChoices(const std::vector<std::uint32_t>& choices,
                               const std::function<void()>& body, const Options& o,
                               rt::FiberBackend& backend, std::string* mismatch = nullptr) {
  ReplayStrategy replay(choices);
  rt::Execution ex(backend, replay, ConfigOf(o, 0), nullptr);
  rt::ExecutionRecord rec = ex.Run(body, 0);
  if (mismatch) {
    mismatch->clear();
    if (replay.first_out_of_range() != ReplayStrategy::kNone) {
      *mismatch = fmt::format("the program has changed since this schedule was recorded: at choice {} "
                              "the recorded alternative no longer exists",
                              replay.first_out_of_range());
    } else if (replay.consumed() < replay.size()) {
      *mismatch = fmt::format("the program has changed since this schedule was recorded: it ended "
                              "after {} of the {} recorded choices",
                              replay.consumed(), replay.size());
    }
  }
  return rec;
}

bool SameEvent(const rt::Event& a, const rt::Event& b) {
  return a.thread == b.thread && a.op == b.op && a.object == b.object && a.value == b.value &&
         a.loc.line() == b.loc.line() &&
         std::string_view(a.loc.file_name()) == std::string_view(b.loc.file_name());
}

std::string DescribeEvent(const rt::ExecutionRecord& r, const rt::Event& e) {
  return fmt::format("{} {} {} at {}:{}", e.thread < r.threads.size() ? r.threads[e.thread].name : "?",
                     rt::OpName(e.op), e.object && e.object < r.objects.size() ? r.objects[e.object].name : "",
                     e.loc.file_name(), e.loc.line());
}

std::string CompareRecords(const rt::ExecutionRecord& a, const rt::ExecutionRecord& b) {
  std::size_t n = std::min(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!SameEvent(a.events[i], b.events[i])) {
      return fmt::format("replay diverged at step {}: first run did {}, second did {} "
                         "(uncontrolled nondeterminism: wall-clock time, unseeded randomness, "
                         "state surviving between executions, or a thread the lab does not control)",
                         i, DescribeEvent(a, a.events[i]), DescribeEvent(b, b.events[i]));
    }
  }
  if (a.events.size() != b.events.size()) {
    return fmt::format("replay diverged at step {}: one run ended there, the other went on to {} steps",
                       n, std::max(a.events.size(), b.events.size()));
  }
  return {};
}

std::string SafeName(std::string_view name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? std::string("lab") : out;
}

std::string ReplayCommand(const std::string& token, const std::string& name) {
  if (const char* target = Env("TEST_TARGET")) {
    return fmt::format("bazel test {} --test_env=LAB_REPLAY={}{}", target, token,
                       name.empty() ? "" : " --test_filter=" + name);
  }
  return fmt::format("LAB_REPLAY={} {}{}", token, program_invocation_name,
                     name.empty() ? "" : " --gtest_filter=" + name);
}

void WriteReportFiles(const Report& r, const Options& o, int index) {
  const std::string name =
      fmt::format("{}{}-{}", SafeName(o.name), index ? fmt::format("-{}", index) : "", r.kind);
  if (const char* dir = Env("LAB_REPORT_DIR")) {
    std::string base = fmt::format("{}/{}", dir, name);
    std::ofstream(base + ".txt") << RenderText(r);
    std::ofstream(base + ".json") << ToJson(r).dump(2) << "\n";
    std::ofstream(base + ".trace.json") << ToTraceJson(r) << "\n";
  }
  if (const char* dir = Env("LAB_HTML_DIR")) {
    HtmlOptions h;
    h.title = o.name.empty() ? fmt::format("lab: {}", r.kind) : fmt::format("{}: {}", o.name, r.kind);
    const std::string path = fmt::format("{}/{}.html", dir, name);
    if (auto w = WriteHtmlFile(path, RenderHtml(r, h)); !w) std::fprintf(stderr, "lab: %s\n", w.error().c_str());
  }
}

// Cooperative deadline plus a last-resort watchdog for a body that never reaches a facade call.
class Watchdog {
 public:
  Watchdog(double seconds, std::string what) {
    if (seconds <= 0) return;
    deadline_ = Now() + seconds;
    thread_ = std::thread([this, seconds, what = std::move(what)] {
      std::unique_lock lock(mu_);
      // Grace: the cooperative check at scheduling points should end the exploration first.
      if (cv_.wait_for(lock, std::chrono::duration<double>(seconds + 10), [this] { return done_; })) return;
      std::fprintf(stderr,
                   "lab: hang: %s did not finish within %.0f s and is stuck outside any lab "
                   "operation (a loop without facade calls?); aborting\n",
                   what.c_str(), seconds);
      std::abort();
    });
  }
  ~Watchdog() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  double deadline() const { return deadline_; }

 private:
  double deadline_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

bool ExploreResult::Found(std::string_view kind) const { return First(kind) != nullptr; }

const Report* ExploreResult::First(std::string_view kind) const {
  for (const auto& r : findings) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

std::string ExploreResult::Summary() const {
  std::string what = findings.empty() ? "clean" : fmt::format("{} finding(s), first: {}", findings.size(), findings.front().kind);
  return fmt::format("lab: {} after {} executions ({} steps, {:.3f} s, strategy {}{}{})", what,
                     executions, steps, seconds, strategy, exhausted ? ", space exhausted" : "",
                     shards > 1 ? fmt::format(", shard {} of {}", shard, shards) : "");
}

std::string ExploreResult::Text() const {
  std::string out = Summary() + "\n";
  for (const auto& r : findings) out += "\n" + RenderText(r);
  return out;
}

std::vector<ReportStep> RunSchedule(const std::vector<std::uint32_t>& choices,
                                    const std::function<void()>& body, const Options& options) {
  rt::FiberBackend& backend = rt::FiberBackend::ForThisThread();
  rt::ExecutionRecord rec = RunChoices(choices, body, options, backend);
  rt::Finding none;
  return MakeReport(rec, none).schedule;
}

std::string CheckDeterminism(const std::vector<std::uint32_t>& choices,
                             const std::function<void()>& body, const Options& options) {
  rt::FiberBackend& backend = rt::FiberBackend::ForThisThread();
  rt::ExecutionRecord a = RunChoices(choices, body, options, backend);
  rt::ExecutionRecord b = RunChoices(choices, body, options, backend);
  return CompareRecords(a, b);
}

ExploreResult Replay(std::string_view token_text, std::function<void()> body, Options options) {
  ExploreResult result;
  result.strategy = "replay";
  auto token = DecodeToken(token_text);
  if (!token) {
    std::fprintf(stderr, "lab: cannot replay: %s\n", token.error().c_str());
    return result;
  }
  const double start = Now();
  rt::FiberBackend& backend = rt::FiberBackend::ForThisThread();
  std::string changed;
  rt::ExecutionRecord a = RunChoices(token->choices, body, options, backend, &changed);
  rt::ExecutionRecord b = RunChoices(token->choices, body, options, backend);
  result.executions = 2;
  result.steps = a.events.size() + b.events.size();
  std::string determinism = CompareRecords(a, b);
  if (!changed.empty()) {
    std::fprintf(stderr, "lab: replay: %s\n", changed.c_str());
    determinism = determinism.empty() ? changed : changed + "; " + determinism;
  }
  for (const auto& f : a.findings) {
    Report r = MakeReport(a, f);
    r.strategy = token->strategy;
    r.seed = token->seed;
    r.original_choices = r.shrunk_choices = token->choices.size();
    r.token = std::string(token_text);
    r.replay_command = ReplayCommand(r.token, options.name);
    r.determinism = determinism.empty() ? fmt::format("replayed twice, identical {} steps", a.events.size())
                                        : determinism;
    result.findings.push_back(std::move(r));
  }
  result.max_bypass = a.max_bypass;
  result.seconds = Now() - start;
  if (!determinism.empty() && result.findings.empty()) {
    std::fprintf(stderr, "lab: replay of %.*s is not deterministic: %s\n",
                 static_cast<int>(token_text.size()), token_text.data(), determinism.c_str());
  }
  return result;
}

ExploreResult Explore(const Options& options_in, std::function<void()> body) {
  Options o = WithEnv(options_in);
  if (o.read_env) {
    if (const char* token = Env("LAB_REPLAY")) {
      ExploreResult r = Replay(token, body, o);
      for (std::size_t i = 0; i < r.findings.size(); ++i) WriteReportFiles(r.findings[i], o, static_cast<int>(i));
      if (!o.quiet) std::fprintf(stderr, "%s", r.Text().c_str());
      return r;
    }
  }
  ExploreResult result;
  result.strategy = StrategyLabel(o.strategy);
  // Bazel sharding: shard i runs executions i, i + N, ...; DFS (one search) runs in shard 0.
  if (const char* total = Env("TEST_TOTAL_SHARDS")) {
    std::uint64_t n = 1, i = 0;
    if (ParseU64(total, &n) && n > 1 && Env("TEST_SHARD_INDEX") && ParseU64(Env("TEST_SHARD_INDEX"), &i)) {
      result.shards = static_cast<int>(n);
      result.shard = static_cast<int>(i);
    }
    if (const char* status = Env("TEST_SHARD_STATUS_FILE")) std::ofstream(status).flush();
  }
  const bool is_dfs = std::holds_alternative<Dfs>(o.strategy);
  if (is_dfs && result.shard != 0) return result;

  const double start = Now();
  Watchdog watchdog(o.watchdog_seconds, fmt::format("the exploration {}", o.name));
  auto strategy = MakeStrategy(o.strategy);
  LockOrderDetector lock_order;
  rt::FiberBackend& backend = rt::FiberBackend::ForThisThread();
  rt::FiberBackend& replay_backend = backend;   // executions never overlap: one pool
  rt::Execution ex(backend, *strategy, ConfigOf(o, watchdog.deadline()), &lock_order);
  std::set<std::string> seen;  // non-fatal findings already reported (same summary)

  for (int i = 0; i < o.iterations; ++i) {
    if (!is_dfs && result.shards > 1 && i % result.shards != result.shard) continue;
    const std::uint64_t seed = Mix64(o.seed * 0x100000001b3ull + static_cast<std::uint64_t>(i));
    rt::ExecutionRecord rec = ex.Run(body, seed);
    ++result.executions;
    result.steps += rec.events.size();
    if (result.max_bypass.size() < rec.max_bypass.size()) result.max_bypass.resize(rec.max_bypass.size());
    for (std::size_t t = 0; t < rec.max_bypass.size(); ++t) {
      result.max_bypass[t] = std::max(result.max_bypass[t], rec.max_bypass[t]);
    }
    bool stop = false;
    if (rec.Fatal()) ++result.failing_executions;
    for (const auto& f : rec.findings) {
      if (!f.fatal && !seen.insert(f.kind + f.summary).second) continue;
      Report r;
      // Liveness findings are not shrunk: the shrinker drives choices toward the lowest thread,
      // i.e. toward unfair schedules, which starve someone in any program.
      const bool liveness = f.kind == "hang" || f.kind == "starvation" || f.kind == "livelock";
      if (f.fatal && !liveness) {
        // Shrink: fewer choices, smaller indices, as long as the same kind of bug still shows.
        ShrinkStats stats;
        const std::string kind = f.kind;
        std::vector<std::uint32_t> shrunk = o.shrink_budget <= 0 ? rec.choices : ShrinkChoices(
            rec.choices,
            [&](const std::vector<std::uint32_t>& c) {
              rt::ExecutionRecord again = RunChoices(c, body, o, replay_backend);
              return again.Fatal() && again.Fatal()->kind == kind;
            },
            o.shrink_budget, &stats);
        rt::ExecutionRecord final_rec = RunChoices(shrunk, body, o, replay_backend);
        if (final_rec.Fatal() && final_rec.Fatal()->kind == kind) {
          r = MakeReport(final_rec, *final_rec.Fatal());
          shrunk = final_rec.choices;   // exactly the choices made: in range, none unused
        } else {
          shrunk = rec.choices;  // cannot happen with a deterministic body; keep the original
          r = MakeReport(rec, f);
        }
        r.original_choices = rec.choices.size();
        r.shrunk_choices = shrunk.size();
        r.shrink_attempts = stats.attempts;
        std::string det = CheckDeterminism(shrunk, body, o);
        r.determinism = det.empty() ? fmt::format("replayed twice, identical {} steps", r.schedule.size()) : det;
        r.choices = shrunk;
      } else {
        r = MakeReport(rec, f);
        r.original_choices = r.shrunk_choices = rec.choices.size();
        if (liveness) {
          std::string det = CheckDeterminism(rec.choices, body, o);
          r.determinism = det.empty() ? fmt::format("replayed twice, identical {} steps (liveness findings are not shrunk)", r.schedule.size()) : det;
        }
        if (!f.fatal) {
          r.determinism = "lock-order edges can span executions; the token replays the execution "
                          "that closed the cycle";
        }
      }
      r.strategy = result.strategy;
      r.seed = seed;
      r.execution = static_cast<std::uint64_t>(i);
      r.token = EncodeToken(ReplayToken{.version = 1, .strategy = std::string(strategy->Name()),
                                        .seed = seed, .choices = r.choices});
      r.replay_command = ReplayCommand(r.token, o.name);
      WriteReportFiles(r, o, static_cast<int>(result.findings.size()));
      result.findings.push_back(std::move(r));
      stop = stop || f.fatal;   // a lock-order inversion alone does not end the exploration
    }
    if (stop && o.stop_at_first_finding) break;
    if (strategy->Exhausted()) {
      result.exhausted = true;
      break;
    }
    if (watchdog.deadline() > 0 && Now() > watchdog.deadline()) {
      Report r;
      r.kind = "hang";
      r.summary = fmt::format("hang: the exploration exceeded its watchdog ({} s) after {} executions",
                              o.watchdog_seconds, result.executions);
      r.strategy = result.strategy;
      result.findings.push_back(std::move(r));
      break;
    }
  }
  result.seconds = Now() - start;
  if (!o.quiet && !result.findings.empty()) std::fprintf(stderr, "%s", result.Text().c_str());
  return result;
}

}  // namespace lab
