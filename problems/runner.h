// problems/runner.h: runs catalogue cases under the lab and decides whether they behaved.
//
//   problems::Outcome o = problems::RunCase(*c, {});          // the case's own budget
//   if (!o.as_expected()) ...                                  // missed bug or false alarm
//   problems::Outcome again = problems::ReplayCase(*c, o.report()->token);
//
// The verdict of a run is the kind of its first finding, or "clean". A case behaves when the
// verdict equals its expected verdict.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "lab/explore.h"
#include "problems/catalogue.h"

namespace problems {

// Command-line overrides of a case's exploration; unset fields keep the case's own.
struct Overrides {
  std::optional<std::string> strategy;  // "random", "pct", "dfs"
  std::optional<int> iterations;
  std::optional<int> depth;             // PCT depth, or DFS preemption bound
  std::optional<std::uint64_t> seed;
};

// The lab options for `c` with `overrides` applied. Environment knobs (LAB_*) are not read, so a
// run is exactly what its command line says.
lab::Options OptionsFor(const Case& c, const Overrides& overrides = {});

struct Outcome {
  const Case* c = nullptr;
  lab::ExploreResult result;
  std::string verdict;  // "clean" or the first finding's kind

  bool as_expected() const { return c != nullptr && c->Accepts(verdict); }
  const lab::Report* report() const {
    return result.findings.empty() ? nullptr : &result.findings.front();
  }
};

// Explores `c` within its budget (or the overridden one), stopping at the first finding.
Outcome RunCase(const Case& c, const Overrides& overrides = {});

// Runs the one schedule of `token` (as printed by a report) against `c`. A token that does not
// decode gives an error message instead.
std::expected<Outcome, std::string> ReplayCase(const Case& c, std::string_view token);

// The command a student copies to see this schedule again: `tools/ipclab replay CASE TOKEN`.
std::string ReplayCommand(const Case& c, std::string_view token);

}  // namespace problems
