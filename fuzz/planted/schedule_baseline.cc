// schedule_baseline: schedules to the first finding on a planted bug for the lab's own strategies,
// the peers schedule fuzzing is compared with (fuzz/schedule_vs_pct.sh):
//   schedule_baseline --bug order_violation --strategy pct --depth 2 --seed 1 --runs 5 --budget 100000
// For each seed S in [seed, seed + runs) it explores the buggy program with that strategy (lab::Explore,
// seed S, no shrinking) until the first finding of the expected kind or `budget` executions, and
// prints one line per run and a median:
//   run bug=order_violation strategy=pct2 seed=1 found=1 executions=37 seconds=0.004 execs_per_sec=9250
//   median bug=order_violation strategy=pct2 runs=5 found=5 executions=41 execs_per_sec=9100
// `--fixed` explores the correct twin for the whole budget instead (throughput: exec/s of the same
// program without a finding to stop at; exit 0 when clean).
// `--strategy blind` feeds uniformly random byte strings (length 0..--max-len) to the schedule
// fuzzing strategy (--encoding choices|preemptions) without coverage feedback: what libFuzzer's
// guidance adds is the difference.
// Exit 0 when every run found the bug, 1 otherwise, 2 on usage errors.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "lab/explore.h"
#include "lab/schedfuzz/driver.h"
#include "lab/schedfuzz/planted_programs.h"

namespace {

struct Run {
  bool found = false;
  std::uint64_t executions = 0;
  double seconds = 0;
};

Run ExploreRun(const lab::schedfuzz::PlantedInfo& p, bool fixed, lab::StrategySpec spec, std::uint64_t seed,
               int budget) {
  auto r = lab::Explore({.strategy = spec, .iterations = budget, .seed = seed, .shrink_budget = 0,
                         .read_env = false, .quiet = true},
                        [bug = p.bug, fixed] { lab::schedfuzz::RunPlanted(bug, fixed); });
  return Run{fixed ? r.clean() : r.Found(p.kind), r.executions, r.seconds};
}

Run BlindRun(const lab::schedfuzz::PlantedInfo& p, bool fixed, std::uint64_t seed, int budget, int max_len,
             lab::FuzzStrategy::Encoding encoding) {
  lab::schedfuzz::ScheduleFuzzer fuzzer([bug = p.bug, fixed] { lab::schedfuzz::RunPlanted(bug, fixed); },
                                        {.name = std::string(p.name), .encoding = encoding, .shrink_budget = 0});
  lab::Rng rng(seed);
  std::vector<std::uint8_t> input;
  Run run;
  bool any_finding = false;
  for (int i = 0; i < budget && !run.found && !(fixed && any_finding); ++i) {
    input.resize(rng.Below(static_cast<std::uint64_t>(max_len) + 1));
    for (auto& b : input) b = static_cast<std::uint8_t>(rng.Next());
    auto out = fuzzer.Run(input);
    any_finding = out.finding.has_value();
    run.found = !fixed && out.finding && out.finding->kind == p.kind;
  }
  if (fixed) run.found = !any_finding;   // "found" means "as expected": clean
  run.executions = fuzzer.executions();
  run.seconds = fuzzer.seconds();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"schedules to the first finding on a planted bug, for a lab strategy"};
  std::string bug_name, strategy = "pct";
  int depth = 2, runs = 5, budget = 100000, max_len = 64;
  std::uint64_t seed = 1;
  bool fixed = false;
  app.add_flag("--fixed", fixed, "explore the correct twin for the whole budget (throughput)");
  app.add_option("--bug", bug_name, "order_violation | abba | lost_wakeup")->required();
  app.add_option("--strategy", strategy, "pct | random | blind")->check(CLI::IsMember({"pct", "random", "blind"}));
  app.add_option("--depth", depth, "PCT depth")->check(CLI::Range(1, 10));
  app.add_option("--seed", seed, "first seed");
  app.add_option("--runs", runs, "runs (seeds seed, seed+1, ...)")->check(CLI::Range(1, 1000));
  app.add_option("--budget", budget, "executions per run at most")->check(CLI::Range(1, 100000000));
  app.add_option("--max-len", max_len, "blind: longest random input")->check(CLI::Range(0, 4096));
  std::string encoding = "choices";
  app.add_option("--encoding", encoding, "blind: choices | preemptions (lab/strategy/fuzz.h)")
      ->check(CLI::IsMember({"choices", "preemptions"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "schedule_baseline: " << e.what() << "\n";
    return 2;
  }
  auto p = lab::schedfuzz::FindPlanted(bug_name);
  if (!p) {
    std::cerr << "schedule_baseline: no planted bug '" << bug_name << "' (order_violation, abba, lost_wakeup)\n";
    return 2;
  }
  const std::string label = strategy == "pct"     ? fmt::format("pct{}", depth)
                            : strategy == "blind" ? fmt::format("blind-{}", encoding)
                                                  : strategy;
  const auto enc = encoding == "preemptions" ? lab::FuzzStrategy::Encoding::kPreemptions
                                             : lab::FuzzStrategy::Encoding::kChoices;
  std::vector<std::uint64_t> executions;
  std::vector<double> rates;
  int found = 0;
  for (int i = 0; i < runs; ++i) {
    const std::uint64_t s = seed + static_cast<std::uint64_t>(i);
    Run r = strategy == "blind"    ? BlindRun(*p, fixed, s, budget, max_len, enc)
            : strategy == "random" ? ExploreRun(*p, fixed, lab::Random{}, s, budget)
                                   : ExploreRun(*p, fixed, lab::Pct{.depth = depth}, s, budget);
    const double rate = r.seconds > 0 ? static_cast<double>(r.executions) / r.seconds : 0;
    fmt::print("run bug={}{} strategy={} seed={} {}={} executions={} seconds={:.3f} execs_per_sec={:.0f}\n",
               p->name, fixed ? "_fixed" : "", label, s, fixed ? "clean" : "found", r.found ? 1 : 0,
               r.executions, r.seconds, rate);
    found += r.found;
    // A run that did not find it counts as "more than the budget" (sorts last).
    executions.push_back(r.found ? r.executions : std::uint64_t(budget) + 1);
    rates.push_back(rate);
  }
  std::sort(executions.begin(), executions.end());
  std::sort(rates.begin(), rates.end());
  const std::uint64_t median = executions[executions.size() / 2];
  fmt::print("median bug={}{} strategy={} runs={} {}={} executions={} execs_per_sec={:.0f}\n", p->name,
             fixed ? "_fixed" : "", label, runs, fixed ? "clean" : "found", found, median > std::uint64_t(budget) ? fmt::format(">{}", budget) : std::to_string(median),
             rates[rates.size() / 2]);
  return found == runs ? 0 : 1;
}
