// The main of a graded program: `ipclab check` links the student's file with the grading kit
// (this main, the exercises' harnesses, the lab) and runs the result as
//   exercise_check EXERCISE FILE [--seed N] [--replay TOKEN] [--explain] [--json]
//                  [--html PAGE --source-root DIR]...
// FILE only labels the output and the replay command. Exit status: 0 passed, 1 a finding,
// 2 usage error (or the file does not define the exercise's entry point).
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lab/report/html.h"
#include "lab/report/report.h"
#include "problems/exercises/exercise.h"

namespace exercises {
namespace {

std::string ReplayCommand(const Exercise& e, const std::string& file, const std::string& token) {
  return fmt::format("tools/ipclab check {} {} --replay {}", e.name, file, token);
}

// Writes the grade as one self-contained page: the report of the first bug, or a "no finding"
// page with what was explored. Returns false (after saying why) when the page cannot be written.
bool WriteHtml(const std::string& path, const Exercise& e, const std::string& file,
               std::span<const lab::Report> reports,
               std::vector<std::pair<std::string, std::string>> facts,
               const std::vector<std::string>& source_roots, bool explain) {
  lab::HtmlOptions o;
  o.title = fmt::format("ipclab check {} {}: {}", e.name, file,
                        reports.empty() ? "PASS" : "FAIL, " + reports.front().kind);
  o.subtitle = fmt::format("exercise {}: {}", e.name, e.title);
  o.facts = std::move(facts);
  o.explain = explain || !reports.empty();
  o.doc = fmt::format("docs/exercises/{}/README.md (hints)", e.name);
  o.source_roots = source_roots;
  if (auto w = lab::WriteHtmlFile(path, lab::RenderHtml(reports, o)); !w) {
    std::cerr << "ipclab check: " << w.error() << "\n";
    return false;
  }
  return true;
}

nlohmann::json PhaseJson(const Phase& p) {
  return {{"strategy", p.label},
          {"schedules", p.result.executions},
          {"steps", p.result.steps},
          {"exhausted", p.result.exhausted},
          {"seconds", p.result.seconds},
          {"clean", p.result.clean()}};
}

int Main(int argc, char** argv) {
  std::string name, file, replay, html;
  std::vector<std::string> source_roots;
  std::uint64_t seed = 1;
  bool explain = false, json = false;
  CLI::App app("grades one exercise solution (run by `ipclab check`)");
  app.add_option("exercise", name)->required();
  app.add_option("file", file)->required();
  app.add_option("--seed", seed);
  app.add_option("--replay", replay);
  app.add_flag("--explain", explain);
  app.add_flag("--json", json);
  app.add_option("--html", html);
  app.add_option("--source-root", source_roots);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ipclab check: " << e.what() << "\n";
    return 2;
  }
  const Exercise* e = Find(name);
  if (e == nullptr) {
    std::cerr << "ipclab check: unknown exercise '" << name << "'\n";
    return 2;
  }
  if (!e->implemented()) {
    std::cerr << fmt::format("ipclab check: {} does not define {} (see docs/exercises/{}/README.md)\n",
                             file, e->entry_point, e->name);
    return 2;
  }

  if (!replay.empty()) {
    lab::ExploreResult r = ReplaySolution(*e, replay);
    if (r.executions == 0) {
      std::cerr << fmt::format("ipclab check: the replay token '{}' does not decode\n", replay);
      return 2;
    }
    for (lab::Report& report : r.findings) report.replay_command = ReplayCommand(*e, file, replay);
    if (!html.empty() &&
        !WriteHtml(html, *e, file, r.findings, {{"replayed", replay}}, source_roots, explain)) {
      return 2;
    }
    if (json) {
      nlohmann::json j{{"exercise", e->name}, {"file", file}, {"replay", replay},
                       {"passed", r.clean()}};
      j["report"] = r.clean() ? nlohmann::json(nullptr) : nlohmann::json(lab::ToJson(r.findings[0]));
      std::cout << j.dump(2) << "\n";
    } else if (r.clean()) {
      std::cout << fmt::format("{}: the schedule {} shows no bug in {} (it did before the file "
                               "changed, or it is another file's schedule)\n",
                               e->name, replay, file);
    } else {
      std::cout << fmt::format("FAIL {} {}: {} (replayed)\n\n", e->name, file,
                               r.findings[0].kind);
      std::cout << lab::RenderText(r.findings[0], explain) << "\n";
    }
    return r.clean() ? 0 : 1;
  }

  Grade g = GradeSolution(*e, seed);
  for (Phase& p : g.phases) {
    for (lab::Report& r : p.result.findings) r.replay_command = ReplayCommand(*e, file, r.token);
  }
  const lab::Report* report = g.report();
  const std::string replay_command = report ? report->replay_command : "";
  if (!html.empty()) {
    std::vector<std::pair<std::string, std::string>> facts = {{"budget", BudgetText(*e)}};
    for (const Phase& p : g.phases) {
      facts.emplace_back(p.label, fmt::format("{} schedules{}, {} steps, {:.2f} s: {}",
                                              p.result.executions,
                                              p.result.exhausted ? " (all)" : "", p.result.steps,
                                              p.result.seconds,
                                              p.result.clean() ? "no bug" : p.result.findings[0].kind));
    }
    std::span<const lab::Report> shown;
    if (report != nullptr) shown = std::span<const lab::Report>(report, 1);
    if (!WriteHtml(html, *e, file, shown, std::move(facts), source_roots, explain)) return 2;
  }
  if (json) {
    nlohmann::json j{{"exercise", e->name}, {"file", file}, {"passed", g.passed()},
                     {"budget", BudgetText(*e)}, {"schedules", g.schedules()}};
    j["phases"] = nlohmann::json::array();
    for (const Phase& p : g.phases) j["phases"].push_back(PhaseJson(p));
    j["kind"] = report ? report->kind : "clean";
    j["expected_in_starter"] = e->kind;
    if (report) {
      j["token"] = report->token;
      j["replay"] = replay_command;
      j["report"] = lab::ToJson(*report);
    } else {
      j["report"] = nullptr;
    }
    std::cout << j.dump(2) << "\n";
    return report ? 1 : 0;
  }

  std::cout << fmt::format("exercise {}: {}\n", e->name, e->title);
  std::cout << fmt::format("budget: {}\n", BudgetText(*e));
  for (const Phase& p : g.phases) {
    const lab::ExploreResult& r = p.result;
    std::string what = r.clean() ? "no bug" : fmt::format("{} in schedule {}", r.findings[0].kind,
                                                          r.findings[0].execution + 1);
    std::cout << fmt::format("  {:<28} {:>6} schedules{} {:>9} steps {:>7.2f} s   {}\n", p.label,
                             r.executions, r.exhausted ? " (all)" : "      ", r.steps, r.seconds,
                             what);
  }
  if (report == nullptr) {
    const Phase& dfs = g.phases.back();
    std::cout << fmt::format(
        "PASS {} {}: no schedule broke the invariant ({} schedules explored; dfs {} every "
        "schedule with at most {} preemptions)\n",
        e->name, file, g.schedules(), dfs.result.exhausted ? "covered" : "did not finish",
        e->budget.dfs_preemptions);
    return 0;
  }
  std::cout << fmt::format("FAIL {} {}: {}\n\n", e->name, file, report->kind);
  const std::string text = lab::RenderText(*report, explain);
  std::cout << text << (text.ends_with("\n") ? "" : "\n");
  std::cout << fmt::format("\nHints: docs/exercises/{}/README.md\n", e->name);
  return 1;
}

}  // namespace
}  // namespace exercises

int main(int argc, char** argv) { return exercises::Main(argc, argv); }
