#include "problems/runner.h"

#include <fmt/format.h>

#include "lab/report/token.h"

namespace problems {
namespace {

lab::StrategySpec StrategyOf(std::string_view name, int depth) {
  if (name == "random") return lab::Random{};
  if (name == "dfs") return lab::Dfs{.max_preemptions = depth};
  return lab::Pct{.depth = depth};
}

std::string VerdictOf(const lab::ExploreResult& r) {
  return r.findings.empty() ? std::string(kClean) : r.findings.front().kind;
}

void StampReplayCommands(const Case& c, lab::ExploreResult& r) {
  for (lab::Report& report : r.findings) {
    if (!report.token.empty()) report.replay_command = ReplayCommand(c, report.token);
  }
}

}  // namespace

lab::Options OptionsFor(const Case& c, const Overrides& overrides) {
  const Exploration& e = c.exploration;
  const std::string strategy = overrides.strategy.value_or(e.strategy);
  // The depth means "PCT depth" for pct and "preemption bound" for dfs; a case's PCT depth is not
  // a sensible preemption bound, so dfs without --depth is unbounded.
  int depth = overrides.depth.value_or(strategy == "dfs" ? -1 : e.depth);
  lab::Options o;
  o.strategy = StrategyOf(strategy, depth);
  o.iterations = overrides.iterations.value_or(e.iterations);
  o.seed = overrides.seed.value_or(e.seed);
  if (e.max_steps != 0) o.max_steps = e.max_steps;
  if (e.starvation_bound != 0) o.starvation_bound = e.starvation_bound;
  o.name = c.name;
  o.read_env = false;
  o.quiet = true;
  return o;
}

Outcome RunCase(const Case& c, const Overrides& overrides) {
  Outcome out;
  out.c = &c;
  out.result = lab::Explore(OptionsFor(c, overrides), c.body);
  out.verdict = VerdictOf(out.result);
  StampReplayCommands(c, out.result);
  return out;
}

std::expected<Outcome, std::string> ReplayCase(const Case& c, std::string_view token) {
  if (auto decoded = lab::DecodeToken(token); !decoded) {
    return std::unexpected(fmt::format("bad replay token '{}': {}", token, decoded.error()));
  }
  Outcome out;
  out.c = &c;
  out.result = lab::Replay(token, c.body, OptionsFor(c));
  out.verdict = VerdictOf(out.result);
  StampReplayCommands(c, out.result);
  return out;
}

std::string ReplayCommand(const Case& c, std::string_view token) {
  return fmt::format("tools/ipclab replay {} {}", c.name, token);
}

}  // namespace problems
