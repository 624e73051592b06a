#include "lab/schedfuzz/driver.h"

#include <errno.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "lab/explore.h"
#include "lab/report/shrink.h"
#include "lab/report/token.h"
#include "lab/rt/fiber_backend.h"
#include "lab/schedfuzz/coverage.h"
#include "lab/strategy/replay.h"

namespace lab::schedfuzz {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The same execution settings lab::Replay derives from lab::Options, so the token replays.
lab::Options ExploreOptions(const FuzzOptions& o) {
  return lab::Options{.max_steps = o.max_steps, .starvation_bound = o.starvation_bound,
                      .read_env = false, .quiet = true};
}

rt::ExecutionConfig ConfigOf(const FuzzOptions& o) {
  rt::ExecutionConfig c;
  c.max_steps = o.max_steps;
  c.starvation_bound = o.starvation_bound;
  return c;
}

rt::ExecutionRecord RunChoices(const std::vector<std::uint32_t>& choices, const std::function<void()>& body,
                               const FuzzOptions& o) {
  ReplayStrategy replay(choices);
  rt::Execution ex(rt::FiberBackend::ForThisThread(), replay, ConfigOf(o), nullptr);
  return ex.Run(body, 0);
}

}  // namespace

ScheduleFuzzer::ScheduleFuzzer(std::function<void()> body, FuzzOptions options)
    : body_(std::move(body)), options_(std::move(options)), strategy_(options_.fallback, options_.encoding) {}

Outcome ScheduleFuzzer::Run(std::span<const std::uint8_t> input) {
  if (executions_++ == 0) start_ = Now();
  strategy_.SetInput(input);
  const std::uint64_t seed = HashInput(input);
  Outcome out;
  {
    rt::Execution ex(rt::FiberBackend::ForThisThread(), strategy_, ConfigOf(options_), nullptr);
    out.record = ex.Run(body_, seed);
  }
  seconds_ = Now() - start_;
  const rt::Finding* fatal = out.record.Fatal();
  if (!fatal) return out;

  const std::string kind = fatal->kind;
  std::vector<std::uint32_t> choices = out.record.choices;
  ShrinkStats stats;
  // Liveness findings are not shrunk (as in lab::Explore): shrinking drives toward unfair schedules.
  const bool liveness = kind == "hang" || kind == "starvation" || kind == "livelock";
  if (!liveness && options_.shrink_budget > 0) {
    choices = ShrinkChoices(
        choices,
        [&](const std::vector<std::uint32_t>& c) {
          rt::ExecutionRecord again = RunChoices(c, body_, options_);
          return again.Fatal() && again.Fatal()->kind == kind;
        },
        options_.shrink_budget, &stats);
    rt::ExecutionRecord final_rec = RunChoices(choices, body_, options_);
    if (final_rec.Fatal() && final_rec.Fatal()->kind == kind) {
      choices = final_rec.choices;   // exactly the choices made: in range, none unused
    } else {
      choices = out.record.choices;  // cannot happen with a deterministic body
    }
  }
  const std::string token = EncodeToken(ReplayToken{.version = kTokenVersion,
                                                    .strategy = std::string(strategy_.Name()),
                                                    .seed = seed,
                                                    .choices = choices});
  ExploreResult replayed = Replay(token, body_, ExploreOptions(options_));
  Report report;
  if (const Report* r = replayed.First(kind)) {
    report = *r;
  } else {
    // The body is not deterministic: report the fuzzed execution itself and say so.
    report = MakeReport(out.record, *fatal);
    report.token = EncodeToken(ReplayToken{.version = kTokenVersion,
                                           .strategy = std::string(strategy_.Name()),
                                           .seed = seed,
                                           .choices = out.record.choices});
    report.replay_command = fmt::format("LAB_REPLAY={} {}", report.token, program_invocation_name);
    report.determinism = "the shrunk schedule did not reproduce the finding on replay "
                         "(uncontrolled nondeterminism in the body?)";
    report.choices = out.record.choices;
  }
  report.strategy = std::string(strategy_.Name());
  report.seed = seed;
  report.execution = executions_ - 1;
  report.original_choices = out.record.choices.size();
  report.shrunk_choices = report.choices.size();
  report.shrink_attempts = stats.attempts;
  out.finding = std::move(report);
  return out;
}

int FuzzOne(ScheduleFuzzer& fuzzer, std::span<const std::uint8_t> input, std::span<std::uint8_t> counters) {
  Outcome out = fuzzer.Run(input);
  AddInterleavingCoverage(out.record.events, counters);
  if (!out.finding) return 0;
  const double seconds = fuzzer.seconds();
  std::fprintf(stderr, "%s\nschedfuzz: %s: %s after %llu schedules (%.3f s, %.0f exec/s)\n",
               RenderText(*out.finding).c_str(), fuzzer.options().name.c_str(), out.finding->kind.c_str(),
               static_cast<unsigned long long>(fuzzer.executions()), seconds,
               seconds > 0 ? static_cast<double>(fuzzer.executions()) / seconds : 0.0);
  std::fflush(stderr);
  std::abort();
}

void ReplayFromEnv(const ScheduleFuzzer& fuzzer) {
  const char* token = std::getenv("LAB_REPLAY");
  if (!token || !*token) return;
  ExploreResult r = Replay(token, fuzzer.body(), ExploreOptions(fuzzer.options()));
  if (r.executions == 0) std::exit(2);   // Replay said why on stderr
  std::fprintf(stderr, "%s", r.Text().c_str());
  std::exit(r.clean() ? 0 : 1);
}

}  // namespace lab::schedfuzz
