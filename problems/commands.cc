#include "problems/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lab/report/html.h"
#include "lab/report/report.h"
#include "problems/all.h"
#include "problems/catalogue.h"
#include "problems/runner.h"
#include "problems/site.h"

namespace problems {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitFinding = 1;
constexpr int kExitUsage = 2;

const Catalogue& TheCatalogue() {
  static const Catalogue* catalogue = new Catalogue(FullCatalogue());
  return *catalogue;
}

int UsageError(std::string_view command, const std::string& what) {
  std::cerr << "ipclab " << command << ": " << what << "\n";
  return kExitUsage;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// One line for a name that is not a case: a problem without its variant, or a near miss.
std::string UnknownCase(std::string_view name) {
  const Catalogue& cat = TheCatalogue();
  std::vector<std::string> variants;
  std::string_view problem = name;
  if (problem.ends_with('/')) problem.remove_suffix(1);
  for (const Case* c : cat.Matching(problem)) variants.push_back(c->name);
  if (!variants.empty() && problem.find('/') == std::string_view::npos) {
    return fmt::format("'{}' is a problem, not a case; pick a variant: {}", problem,
                       Join(variants, ", "));
  }
  std::vector<std::string> near = cat.Nearest(name);
  if (near.empty()) {
    return fmt::format("unknown case '{}' (cases are problem/variant; `ipclab list` shows all {})",
                       name, cat.cases().size());
  }
  return fmt::format("unknown case '{}'; did you mean {}? (`ipclab list` shows all)", name,
                     Join(near, " or "));
}

// The cases selected by prefixes ("dining_philosophers", "producer_consumer/no_mutex"); all when
// none. An unknown prefix is an error message.
std::expected<std::vector<const Case*>, std::string> Select(
    const std::vector<std::string>& prefixes) {
  const Catalogue& cat = TheCatalogue();
  std::vector<const Case*> out;
  if (prefixes.empty()) {
    for (const Case& c : cat.cases()) out.push_back(&c);
    return out;
  }
  for (const std::string& p : prefixes) {
    std::vector<const Case*> m = cat.Matching(p);
    if (m.empty()) {
      std::vector<std::string> near = cat.Nearest(p);
      return std::unexpected(
          near.empty() ? fmt::format("nothing in the catalogue matches '{}' (see `ipclab list`)", p)
                       : fmt::format("nothing in the catalogue matches '{}'; did you mean {}?", p,
                                     Join(near, " or ")));
    }
    for (const Case* c : m) {
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
  }
  return out;
}

// ---- shared exploration flags ----

struct ExploreFlags {
  std::string strategy;
  int iterations = 0;
  std::uint64_t seed = 0;
  int depth = 0;
  CLI::Option* strategy_opt = nullptr;
  CLI::Option* iterations_opt = nullptr;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* depth_opt = nullptr;

  void Add(CLI::App& sub) {
    strategy_opt = sub.add_option("--strategy", strategy,
                                  "how schedules are chosen: random, pct (probabilistic "
                                  "concurrency testing, the default for most cases) or dfs "
                                  "(systematic, every interleaving)")
                       ->check(CLI::IsMember({"random", "pct", "dfs"}));
    iterations_opt = sub.add_option("--iterations", iterations,
                                    "schedules to explore at most (default: the case's budget)")
                         ->check(CLI::Range(1, 100000000));
    seed_opt = sub.add_option("--seed", seed, "first seed (default 1); same seed, same schedules");
    depth_opt = sub.add_option("--depth", depth,
                               "pct: bug depth (priority change points + 1); dfs: preemption "
                               "bound (default: unbounded)")
                    ->check(CLI::Range(-1, 1000));
  }
  Overrides Get() const {
    Overrides o;
    if (strategy_opt->count()) o.strategy = strategy;
    if (iterations_opt->count()) o.iterations = iterations;
    if (seed_opt->count()) o.seed = seed;
    if (depth_opt->count()) o.depth = depth;
    return o;
  }
};

struct OutputFlags {
  bool json = false;
  std::string trace;
  std::string html;
  bool explain = false;

  void Add(CLI::App& sub) {
    sub.add_option("--html", html,
                   "write the outcome as one self-contained HTML page to FILE: the interleaving "
                   "as swimlanes, the wait-for cycle or the racing pair, the source of each step, "
                   "the teaching text and the replay command (opens from disk, no network)")
        ->type_name("FILE");
    sub.add_flag("--json", json, "print the outcome as one JSON object (for tools)");
    sub.add_option("--trace", trace,
                   "write the finding's schedule as Chrome trace events to FILE (open it in "
                   "https://ui.perfetto.dev or chrome://tracing)")
        ->type_name("FILE");
    sub.add_flag("--explain", explain,
                 "add the teaching text: what this kind of bug is, and what went wrong in this "
                 "case and how to fix it");
  }
};

std::string StrategyLabel(const Case& c, const Overrides& o) {
  const std::string s = o.strategy.value_or(c.exploration.strategy);
  if (s == "pct") return fmt::format("pct, depth {}", o.depth.value_or(c.exploration.depth));
  if (s == "dfs") {
    return o.depth ? fmt::format("dfs, at most {} preemptions", *o.depth) : std::string("dfs");
  }
  return s;
}

std::string Plural(std::uint64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

nlohmann::json OutcomeJson(const Outcome& o) {
  nlohmann::json j;
  j["case"] = o.c->name;
  j["expected"] = o.c->expected;
  if (!o.c->also_accepted.empty()) j["also_accepted"] = o.c->also_accepted;
  j["found"] = o.verdict;
  j["as_expected"] = o.as_expected();
  j["schedules"] = o.result.executions;
  j["steps"] = o.result.steps;
  j["seconds"] = o.result.seconds;
  j["strategy"] = o.result.strategy;
  j["exhausted"] = o.result.exhausted;
  if (const lab::Report* r = o.report()) {
    j["token"] = r->token;
    j["replay"] = r->replay_command;
    j["report"] = lab::ToJson(*r);
  } else {
    j["report"] = nullptr;
  }
  return j;
}

// Prints one run's outcome (run and replay share it) and returns the exit status.
int PrintOutcome(const Outcome& o, const OutputFlags& out, std::string_view how) {
  const lab::Report* report = o.report();
  if (!out.html.empty()) {
    // A clean outcome gets a page too: the facts of what was explored.
    if (auto w = lab::WriteHtmlFile(out.html, CasePage(o, CaseHtmlOptions(o, how))); !w) {
      return UsageError("run", w.error());
    }
  }
  if (!out.trace.empty()) {
    if (report == nullptr) {
      std::cerr << "ipclab: no finding, so no trace written to " << out.trace << "\n";
    } else {
      std::ofstream f(out.trace);
      f << lab::ToTraceJson(*report);
      f.close();
      if (!f) return UsageError("run", fmt::format("cannot write the trace to '{}'", out.trace));
    }
  }
  if (out.json) {
    nlohmann::json j = OutcomeJson(o);
    if (out.explain) {
      j["explanation"] = o.c->explanation;
      j["doc"] = o.c->doc;
    }
    std::cout << j.dump(2) << "\n";
    return report ? kExitFinding : kExitClean;
  }
  std::cout << fmt::format("{}: {}\n", o.c->name, o.c->description);
  if (report == nullptr) {
    std::cout << fmt::format("expected {}; found nothing: clean after {} ({}, {:.2f} s{})\n",
                             o.c->expected, Plural(o.result.executions, "schedule"), how,
                             o.result.seconds,
                             o.result.exhausted ? ", every interleaving covered" : "");
  } else {
    std::cout << fmt::format("expected {}; found {} in schedule {} of {} ({}, {:.2f} s)\n\n",
                             o.c->expected, o.verdict, report->execution + 1,
                             o.result.executions, how, o.result.seconds);
    const std::string text = lab::RenderText(*report, out.explain);
    std::cout << text << (text.ends_with("\n") ? "" : "\n");
  }
  if (out.explain) {
    std::cout << fmt::format("\nAbout {} ({}):\n  {}\n", o.c->name,
                             o.c->buggy() ? "the bug and its fix" : "why it is correct",
                             o.c->explanation);
    std::cout << fmt::format("  More: {}\n", o.c->doc);
  }
  return report ? kExitFinding : kExitClean;
}

// ---- catalogue ----

struct CatalogueArgs {
  std::vector<std::string> prefixes;
  bool json = false;
  std::string html_dir;
  ExploreFlags explore;
};

int RunCatalogue(const CatalogueArgs& args) {
  auto selected = Select(args.prefixes);
  if (!selected) return UsageError("catalogue", selected.error());
  const Overrides overrides = args.explore.Get();
  const bool progress = isatty(STDERR_FILENO) != 0;
  std::vector<Outcome> outcomes;
  const auto start = std::chrono::steady_clock::now();
  const std::size_t n = selected->size();
  for (std::size_t i = 0; i < n; ++i) {
    const Case& c = *(*selected)[i];
    if (progress) {
      constexpr int kWidth = 24;
      const int done = static_cast<int>(kWidth * i / n);
      std::cerr << fmt::format("\r\x1b[2K[{}{}] {}/{} {}", std::string(done, '#'),
                               std::string(kWidth - done, '.'), i, n, c.name)
                << std::flush;
    }
    outcomes.push_back(RunCase(c, overrides));
  }
  if (progress) std::cerr << "\r\x1b[2K" << std::flush;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.html_dir.empty()) {
    if (auto w = WriteSite(args.html_dir, outcomes, seconds); !w) return UsageError("catalogue", w.error());
    std::cerr << fmt::format("ipclab catalogue: wrote {}/index.html and {} case pages\n", args.html_dir,
                             outcomes.size());
  }

  int bugs = 0, clean = 0, failed = 0;
  std::uint64_t schedules = 0;
  for (const Outcome& o : outcomes) {
    schedules += o.result.executions;
    if (!o.as_expected()) {
      ++failed;
    } else if (o.c->buggy()) {
      ++bugs;
    } else {
      ++clean;
    }
  }
  if (args.json) {
    nlohmann::json j;
    j["cases"] = nlohmann::json::array();
    for (const Outcome& o : outcomes) j["cases"].push_back(OutcomeJson(o));
    j["as_expected"] = failed == 0;
    j["failed"] = failed;
    j["seconds"] = seconds;
    std::cout << j.dump(2) << "\n";
    return failed ? kExitFinding : kExitClean;
  }
  std::size_t width = 4;
  for (const Outcome& o : outcomes) width = std::max(width, o.c->name.size());
  std::cout << fmt::format("{:<{}}  {:<18} {:<18} {:>11} {:>8}\n", "case", width, "expected",
                           "found", "schedules", "time");
  for (const Outcome& o : outcomes) {
    std::string mark;
    if (!o.as_expected()) {
      mark = !o.c->buggy()                  ? "  FALSE ALARM"
             : o.verdict == kClean ? "  MISSED"
                                                : "  WRONG KIND";
    }
    // "(all)": a systematic search covered every interleaving.
    const std::string schedules = fmt::format("{}{}", o.result.executions,
                                              o.result.exhausted ? " (all)" : "");
    std::cout << fmt::format("{:<{}}  {:<18} {:<18} {:>11} {:>7.2f}s{}\n", o.c->name, width,
                             o.c->expected, o.verdict, schedules, o.result.seconds, mark);
  }
  std::cout << fmt::format(
      "\n{} cases: {} bugs found with the expected verdict, {} correct cases clean, {} not as "
      "expected; {} schedules in {:.1f} s\n",
      outcomes.size(), bugs, clean, failed, schedules, seconds);
  for (const Outcome& o : outcomes) {
    if (o.as_expected()) continue;
    std::cout << fmt::format("\n{}: expected {}, found {}.\n", o.c->name, o.c->expected, o.verdict);
    if (const lab::Report* r = o.report()) {
      std::cout << fmt::format("  {}\n  replay: {}\n", r->summary, r->replay_command);
    } else {
      std::cout << fmt::format("  no schedule of {} showed it; try `tools/ipclab run {} "
                               "--iterations {}`\n",
                               o.result.executions, o.c->name, o.result.executions * 10);
    }
  }
  if (failed == 0) std::cout << "ipclab: every case behaved as expected\n";
  return failed ? kExitFinding : kExitClean;
}

}  // namespace

std::function<int()> SetupCatalogueCommand(CLI::App& sub) {
  auto args = std::make_shared<CatalogueArgs>();
  const std::string description =
      "DESCRIPTION\n  "
      "Run every case of the catalogue of classic synchronization problems (producer-consumer, "
      "readers-writers, dining philosophers, sleeping barber, cigarette smokers, barrier, and "
      "the course's master/worker, lock file, pipe, mailbox and echo programs) under the lab, "
      "each within its own budget of schedules, and print a table: case, expected verdict, "
      "verdict found, schedules explored, time. This is what `ipclab` does with no arguments.";
  sub.add_option("prefix", args->prefixes,
                 "run only the cases under these names (a problem, or problem/variant)")
      ->type_name("PREFIX");
  sub.add_flag("--json", args->json, "print the results as JSON (for tools)");
  sub.add_option("--html", args->html_dir,
                 "also write a small web site to DIR: DIR/index.html (every case, expected and "
                 "found verdict, schedules, time) and one report page per case, linked")
      ->type_name("DIR");
  args->explore.Add(sub);
  sub.footer(description + "\n\n" +
      "A correct case passes when no schedule within its budget shows a bug; a buggy case passes "
      "when the lab finds its bug with the expected verdict (deadlock, data-race, lost-wakeup, "
      "starvation, livelock, assertion-failure). A progress bar is drawn on stderr when it is a "
      "terminal.\n\n"
      "EXIT STATUS\n  0 every case as expected; 1 some case not (a missed bug or a false alarm); "
      "2 usage error.\n\n"
      "EXAMPLES\n  ipclab\n  ipclab catalogue dining_philosophers readers_writers\n"
      "  ipclab catalogue --json > results.json\n  ipclab catalogue --html out/ && xdg-open out/index.html");
  return [args] { return RunCatalogue(*args); };
}

std::function<int()> SetupListCommand(CLI::App& sub) {
  struct Args {
    std::vector<std::string> prefixes;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  const std::string description =
      "DESCRIPTION\n  "
      "List the cases of the catalogue: name, expected verdict, what it does.";
  sub.add_option("prefix", args->prefixes, "only the cases under these names")
      ->type_name("PREFIX");
  sub.add_flag("--json", args->json, "print the list as JSON");
  sub.footer(description + "\n\n" + "EXIT STATUS\n  0 listed; 2 usage error.\n\nEXAMPLES\n  ipclab list\n"
             "  ipclab list producer_consumer");
  return [args] {
    auto selected = Select(args->prefixes);
    if (!selected) return UsageError("list", selected.error());
    if (args->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const Case* c : *selected) {
        j.push_back({{"case", c->name},
                     {"expected", c->expected},
                     {"also_accepted", c->also_accepted},
                     {"description", c->description},
                     {"explanation", c->explanation},
                     {"doc", c->doc},
                     {"strategy", c->exploration.strategy},
                     {"iterations", c->exploration.iterations},
                     {"depth", c->exploration.depth}});
      }
      std::cout << j.dump(2) << "\n";
      return kExitClean;
    }
    std::size_t width = 4;
    for (const Case* c : *selected) width = std::max(width, c->name.size());
    std::cout << fmt::format("{:<{}}  {:<18} {}\n", "case", width, "expected", "what it does");
    for (const Case* c : *selected) {
      std::cout << fmt::format("{:<{}}  {:<18} {}\n", c->name, width, c->expected,
                               c->description);
    }
    return kExitClean;
  };
}

std::function<int()> SetupRunCommand(CLI::App& sub) {
  struct Args {
    std::string name;
    ExploreFlags explore;
    OutputFlags output;
  };
  auto args = std::make_shared<Args>();
  const std::string description =
      "DESCRIPTION\n  "
      "Explore one case of the catalogue and report the first bug found: its kind, a one-line "
      "summary, the steps that caused it (thread, operation, object, file:line, in order), and "
      "the command that replays exactly that schedule.";
  sub.add_option("case", args->name, "the case, problem/variant (see `ipclab list`)")
      ->required()
      ->type_name("CASE");
  args->explore.Add(sub);
  args->output.Add(sub);
  sub.footer(description + "\n\n" +
      "EXIT STATUS\n  0 no schedule showed a bug; 1 a finding (reported); 2 usage error.\n\n"
      "EXAMPLES\n  ipclab run dining_philosophers/naive\n"
      "  ipclab run producer_consumer/no_mutex --explain\n"
      "  ipclab run readers_writers/fair --strategy random --iterations 500 --seed 7\n"
      "  ipclab run barrier/one_turnstile --json --trace barrier.trace.json\n"
      "  ipclab run dining_philosophers/naive --html deadlock.html");
  return [args] {
    const Case* c = TheCatalogue().Find(args->name);
    if (c == nullptr) return UsageError("run", UnknownCase(args->name));
    const Overrides o = args->explore.Get();
    Outcome outcome = RunCase(*c, o);
    return PrintOutcome(outcome, args->output,
                        fmt::format("{}, seed {}", StrategyLabel(*c, o),
                                    o.seed.value_or(c->exploration.seed)));
  };
}

std::function<int()> SetupReplayCommand(CLI::App& sub) {
  struct Args {
    std::vector<std::string> words;
    OutputFlags output;
  };
  auto args = std::make_shared<Args>();
  const std::string description =
      "DESCRIPTION\n  "
      "Run exactly one schedule again, the one a report printed, and print its full report. "
      "Every report ends with this command, ready to copy.";
  sub.add_option("case_and_token", args->words,
                 "the case (problem/variant) and the replay token (lab1....) from a report")
      ->required()
      ->expected(1, 2)
      ->type_name("CASE TOKEN");
  args->output.Add(sub);
  sub.footer(description + " " +
      "The token holds the schedule (the strategy's choices), not the program: replaying it "
      "against a changed program stops with a note where the schedule no longer fits.\n\n"
      "EXIT STATUS\n  0 the schedule ran clean; 1 it shows the finding; 2 usage error (unknown "
      "case, malformed token).\n\n"
      "EXAMPLE\n  ipclab replay dining_philosophers/naive lab1.pct.7fee3b89592d13a8..4e5fabed");
  return [args] {
    if (args->words.size() < 2) {
      return UsageError("replay",
                        fmt::format("need the case and the token: ipclab replay "
                                    "<problem>/<variant> <token> (got only '{}')",
                                    args->words.empty() ? "" : args->words.front()));
    }
    const Case* c = TheCatalogue().Find(args->words[0]);
    if (c == nullptr) return UsageError("replay", UnknownCase(args->words[0]));
    auto outcome = ReplayCase(*c, args->words[1]);
    if (!outcome) return UsageError("replay", outcome.error());
    return PrintOutcome(*outcome, args->output, "one schedule, replayed");
  };
}

}  // namespace problems
