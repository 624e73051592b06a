#include "lab/detect/deadlock.h"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace lab::detect {
namespace {

std::vector<ThreadId> FindCycle(const std::vector<WaitNode>& nodes) {
  std::map<ThreadId, const WaitNode*> by_thread;
  for (const auto& n : nodes) by_thread[n.thread] = &n;
  std::map<ThreadId, int> color;  // 0 white, 1 on stack, 2 done
  std::vector<ThreadId> stack;
  std::vector<ThreadId> cycle;
  std::function<bool(ThreadId)> visit = [&](ThreadId t) {
    color[t] = 1;
    stack.push_back(t);
    auto it = by_thread.find(t);
    if (it != by_thread.end()) {
      for (ThreadId b : it->second->blockers) {
        if (!by_thread.contains(b)) continue;
        if (color[b] == 1) {
          auto pos = std::find(stack.begin(), stack.end(), b);
          cycle.assign(pos, stack.end());
          return true;
        }
        if (color[b] == 0 && visit(b)) return true;
      }
    }
    stack.pop_back();
    color[t] = 2;
    return false;
  };
  for (const auto& n : nodes) {
    if (color[n.thread] == 0 && visit(n.thread)) return cycle;
  }
  return {};
}

std::string Holds(const WaitNode& n) {
  if (n.holds.empty()) return "holds nothing";
  std::string s = "holds ";
  for (std::size_t i = 0; i < n.holds.size(); ++i) {
    if (i) s += ", ";
    s += fmt::format("{} (taken at {}, step {})", n.holds[i].name, n.holds[i].where, n.holds[i].step);
  }
  return s;
}

// The structured twin of a detail line, for drawings (lab/report/html.h).
rt::WaitFor Structured(const WaitNode& n, const std::map<ThreadId, const WaitNode*>& by_thread,
                       bool in_cycle) {
  rt::WaitFor w;
  w.thread = n.thread_name;
  w.verb = n.waits_for;
  w.object = n.object_name;
  w.where = n.where;
  w.step = n.since;
  for (ThreadId b : n.blockers) {
    auto it = by_thread.find(b);
    w.held_by.push_back(it != by_thread.end() ? it->second->thread_name
                                              : fmt::format("T{} (finished)", b));
  }
  for (const auto& h : n.holds) w.holds.push_back({h.name, h.where, h.step});
  w.in_cycle = in_cycle;
  if (n.lost_signal_step) {
    w.lost_signal_step = static_cast<long long>(*n.lost_signal_step);
    w.lost_signal_where = n.lost_signal_where;
  }
  return w;
}

}  // namespace

rt::Finding AnalyzeDeadlock(const std::vector<WaitNode>& nodes) {
  rt::Finding f;
  std::map<ThreadId, const WaitNode*> by_thread;
  for (const auto& n : nodes) by_thread[n.thread] = &n;
  auto add_step = [&](StepIndex s) { f.steps.push_back(s); };

  if (auto cycle = FindCycle(nodes); !cycle.empty()) {
    f.kind = "deadlock";
    std::string names;
    for (ThreadId t : cycle) names += (names.empty() ? "" : ", ") + by_thread[t]->thread_name;
    f.summary = fmt::format("deadlock: {} wait for each other in a cycle", names);
    f.details.push_back("wait-for cycle:");
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      const WaitNode& n = *by_thread[cycle[i]];
      const WaitNode& next = *by_thread[cycle[(i + 1) % cycle.size()]];
      f.details.push_back(fmt::format("  {} waits to {} {} at {} (step {}), held by {}; it {}",
                                      n.thread_name, n.waits_for, n.object_name, n.where, n.since,
                                      next.thread_name, Holds(n)));
      f.wait_for.push_back(Structured(n, by_thread, true));
      add_step(n.since);
      for (const auto& h : n.holds) add_step(h.step);
      // Arrow from where the blocker took what we wait for to where we block.
      for (const auto& h : next.holds) {
        if (h.name == n.object_name) f.flows.emplace_back(h.step, n.since);
      }
    }
  } else {
    const WaitNode* lost = nullptr;
    for (const auto& n : nodes) {
      if (n.on_condvar && n.lost_signal_step) {
        lost = &n;
        break;
      }
    }
    if (lost) {
      f.kind = "lost-wakeup";
      f.summary = fmt::format(
          "lost wakeup: {} waits forever on {} ({}); it was notified at step {} ({}) before anyone "
          "waited, and nobody notifies it again",
          lost->thread_name, lost->object_name, lost->where, *lost->lost_signal_step,
          lost->lost_signal_where);
      add_step(*lost->lost_signal_step);
      add_step(lost->since);
      f.flows.emplace_back(*lost->lost_signal_step, lost->since);
    } else {
      f.kind = "deadlock";
      f.summary = "deadlock: every unfinished thread is blocked and nobody is left to wake them";
    }
    f.details.push_back("blocked threads:");
    for (const auto& n : nodes) {
      std::string extra;
      if (n.lost_signal_step) {
        extra += fmt::format("; a notify at step {} ({}) found no waiter", *n.lost_signal_step,
                             n.lost_signal_where);
      }
      if (n.last_signal_step) {
        extra += fmt::format("; last notify/post at step {} ({})", *n.last_signal_step,
                             n.last_signal_where);
      } else if (n.on_condvar || n.waits_for == "acquire") {
        extra += "; never notified/posted";
      }
      std::string by;
      for (ThreadId b : n.blockers) {
        auto it = by_thread.find(b);
        by += fmt::format("{}{}", by.empty() ? ", held by " : ", ", it != by_thread.end() ? it->second->thread_name : fmt::format("T{} (finished)", b));
      }
      f.details.push_back(fmt::format("  {} waits to {} {} at {} (step {}){}; it {}{}", n.thread_name,
                                      n.waits_for, n.object_name, n.where, n.since, by, Holds(n), extra));
      f.wait_for.push_back(Structured(n, by_thread, false));
      add_step(n.since);
      if (n.last_signal_step) add_step(*n.last_signal_step);
    }
  }
  std::sort(f.steps.begin(), f.steps.end());
  f.steps.erase(std::unique(f.steps.begin(), f.steps.end()), f.steps.end());
  return f;
}

}  // namespace lab::detect
