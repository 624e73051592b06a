#include "lab/report/report.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "lab/report/trace_event.h"

namespace lab {
namespace {

std::string WhereOf(std::source_location loc) {
  std::string_view file = loc.file_name();
  if (auto pos = file.rfind("/execroot/"); pos != std::string_view::npos) {
    auto rest = file.substr(pos + 10);
    if (auto slash = rest.find('/'); slash != std::string_view::npos) file = rest.substr(slash + 1);
  }
  return fmt::format("{}:{}", file, loc.line());
}

}  // namespace

std::string DescribeStep(const ReportStep& s) {
  std::string what = s.op;
  if (s.value == -1 && s.op != "random") what = "blocks in " + what;
  if (!s.object.empty()) what += " " + s.object;
  if (s.op == "spawn") what += fmt::format(" -> T{}", s.value);
  if (s.op == "join" && s.value >= 0) what += fmt::format(" T{}", s.value);
  if (s.op == "random") what += fmt::format(" = {}", s.value);
  if ((s.op == "try_lock" || s.op == "try_lock_shared" || s.op == "try_acquire" ||
       s.op == "lock" || s.op == "lock_shared" || s.op == "acquire") && s.value == 0) {
    what += " (failed/timed out)";
  }
  if (s.op == "wake") what += s.value ? " (notified)" : " (timeout/spurious)";
  if ((s.op == "notify_one" || s.op == "notify_all")) {
    what += s.value ? fmt::format(" (woke {})", s.value) : " (nobody waiting)";
  }
  return what;
}

namespace {

std::string Describe(const ReportStep& s) { return DescribeStep(s); }

std::string Line(const ReportStep& s) {
  std::string choice =
      s.choice >= 0 ? fmt::format("  [choice {} of {}]", s.choice, s.alternatives) : std::string();
  return fmt::format("{} {:>5}  {:<6} {:<34} {}{}", s.matters ? "*" : " ", s.step, s.thread_name,
                     Describe(s), s.where, choice);
}

}  // namespace

std::vector<ReportStep> Report::StepsThatMatter() const {
  std::set<StepIndex> keep(key_steps.begin(), key_steps.end());
  // Context: for each key step, the preceding step of every other thread (what they had just done).
  for (StepIndex k : key_steps) {
    std::set<ThreadId> seen;
    for (StepIndex i = std::min<StepIndex>(k, schedule.size()); i-- > 0 && seen.size() < 4;) {
      if (schedule[i].thread != schedule[std::min<StepIndex>(k, schedule.size() - 1)].thread &&
          seen.insert(schedule[i].thread).second) {
        keep.insert(i);
      }
    }
  }
  std::vector<ReportStep> out;
  for (StepIndex s : keep) {
    if (s < schedule.size()) out.push_back(schedule[s]);
  }
  return out;
}

Report MakeReport(const rt::ExecutionRecord& record, const rt::Finding& finding) {
  Report r;
  r.kind = finding.kind;
  r.summary = finding.summary;
  r.details = finding.details;
  r.key_steps = finding.steps;
  r.flows = finding.flows;
  r.preemptions = record.preemptions;
  r.choices = record.choices;
  r.wait_for = finding.wait_for;
  r.max_bypass = record.max_bypass;
  r.starved = finding.starved;
  for (const auto& t : record.threads) r.thread_names.push_back(t.name);
  std::set<StepIndex> key(finding.steps.begin(), finding.steps.end());
  for (const auto& e : record.events) {
    ReportStep s;
    s.step = e.step;
    s.thread = e.thread;
    s.thread_name = e.thread < record.threads.size() ? record.threads[e.thread].name : "?";
    s.op = rt::OpName(e.op);
    if (e.object != kNoObject && e.object < record.objects.size()) s.object = record.objects[e.object].name;
    s.where = WhereOf(e.loc);
    s.value = e.value;
    s.choice = e.choice;
    s.alternatives = e.alternatives;
    s.matters = key.contains(e.step);
    r.schedule.push_back(std::move(s));
  }
  return r;
}

std::string_view Explain(std::string_view kind) {
  if (kind == "deadlock") {
    return "Every thread that has not finished is blocked, each waiting for something only another "
           "blocked thread can give. The classic cause is two locks taken in opposite orders. Fix: "
           "take locks in one global order (or all at once), or never block while holding a lock.";
  }
  if (kind == "lock-order-inversion") {
    return "Locks were taken in orders that form a cycle (A then B here, B then A there). This run "
           "did not hang, but two threads running those paths at the same time can deadlock. Fix: "
           "pick one order for these locks and take them in it everywhere.";
  }
  if (kind == "data-race") {
    return "Two threads accessed the same plain data, at least one writing, with nothing that "
           "orders the accesses (no common lock, no join, no release/acquire pair). The result "
           "depends on timing: lost updates, torn values, stale reads. Fix: protect the data with "
           "a lock or make it atomic with the right memory order.";
  }
  if (kind == "lost-wakeup") {
    return "A thread waits on a condition variable for a notification that was sent before it "
           "started waiting: nobody was there to receive it, and nobody will send it again. Fix: "
           "wait on a predicate over shared state (`while (!ready) cv.wait(m);`) and change that "
           "state under the same mutex before notifying.";
  }
  if (kind == "starvation") {
    return "One thread keeps wanting to run (spinning, retrying, or waiting on a lock) while other "
           "threads make progress again and again; under this schedule it never gets its turn. "
           "Typical causes: reader-preferring locks, unfair retry loops, priority by accident. Fix: "
           "a fair policy (writer preference, FIFO handoff, bounded bypass).";
  }
  if (kind == "livelock") {
    return "Threads keep executing but none makes progress: they spin or retry forever reacting "
           "to each other (or wait on a flag nobody will set). Fix: make one side back off for "
           "good, add an order, or block instead of spinning.";
  }
  if (kind == "assertion-failure") {
    return "A LAB_ASSERT (or a misuse the facade checks, such as unlocking a mutex the thread does "
           "not hold) failed under this interleaving. The schedule below leads there.";
  }
  if (kind == "crash") {
    return "An exception escaped a controlled thread: in a real program this terminates the "
           "process. The schedule below leads there.";
  }
  if (kind == "hang") {
    return "The execution did not finish within its step bound or the exploration's watchdog; it "
           "may loop forever under this schedule. Raise max_steps if the test is simply long.";
  }
  return "See docs/lab.md.";
}

std::string RenderText(const Report& r, bool explain) {
  std::string out;
  out += fmt::format("lab found a {}: {}\n", r.kind, r.summary);
  for (const auto& d : r.details) out += d + "\n";
  if (explain) out += fmt::format("\nWhat this means: {}\n", Explain(r.kind));
  auto steps = r.StepsThatMatter();
  out += fmt::format("\nThe steps that matter ({} of {}; * = where it happens):\n", steps.size(),
                     r.schedule.size());
  for (const auto& s : steps) out += Line(s) + "\n";
  if (r.schedule.size() <= 80) {
    out += fmt::format("\nThe whole interleaving ({} steps, {} preemptions):\n", r.schedule.size(),
                       r.preemptions);
    for (const auto& s : r.schedule) out += Line(s) + "\n";
  } else {
    out += fmt::format("\n(the whole interleaving has {} steps, {} preemptions: see the JSON report)\n",
                       r.schedule.size(), r.preemptions);
  }
  out += fmt::format("\nFound by {} (seed {:#x}) in execution {}; schedule shrunk from {} to {} "
                     "choices ({} replays).\n",
                     r.strategy, r.seed, r.execution, r.original_choices, r.shrunk_choices,
                     r.shrink_attempts);
  if (!r.determinism.empty()) out += "Determinism: " + r.determinism + "\n";
  out += fmt::format("Replay token: {}\nReplay: {}\n", r.token, r.replay_command);
  return out;
}

nlohmann::ordered_json ToJson(const Report& r) {
  nlohmann::ordered_json j;
  j["kind"] = r.kind;
  j["summary"] = r.summary;
  j["details"] = r.details;
  j["key_steps"] = r.key_steps;
  nlohmann::ordered_json flows = nlohmann::ordered_json::array();
  for (auto [a, b] : r.flows) flows.push_back({a, b});
  j["flows"] = flows;
  j["threads"] = r.thread_names;
  nlohmann::ordered_json sched = nlohmann::ordered_json::array();
  for (const auto& s : r.schedule) {
    sched.push_back({{"step", s.step}, {"thread", s.thread}, {"thread_name", s.thread_name},
                     {"op", s.op}, {"object", s.object}, {"where", s.where}, {"value", s.value},
                     {"choice", s.choice}, {"alternatives", s.alternatives}, {"matters", s.matters}});
  }
  j["schedule"] = sched;
  j["strategy"] = r.strategy;
  j["seed"] = r.seed;
  j["execution"] = r.execution;
  j["original_choices"] = r.original_choices;
  j["shrunk_choices"] = r.shrunk_choices;
  j["shrink_attempts"] = r.shrink_attempts;
  j["preemptions"] = r.preemptions;
  j["token"] = r.token;
  j["replay_command"] = r.replay_command;
  j["determinism"] = r.determinism;
  if (!r.wait_for.empty()) {
    nlohmann::ordered_json waits = nlohmann::ordered_json::array();
    for (const auto& w : r.wait_for) {
      nlohmann::ordered_json holds = nlohmann::ordered_json::array();
      for (const auto& h : w.holds) holds.push_back({{"object", h.object}, {"where", h.where}, {"step", h.step}});
      nlohmann::ordered_json e = {{"thread", w.thread}, {"verb", w.verb}, {"object", w.object},
                                  {"where", w.where}, {"step", w.step}, {"held_by", w.held_by},
                                  {"holds", holds}, {"in_cycle", w.in_cycle}};
      if (w.lost_signal_step >= 0) {
        e["lost_signal_step"] = w.lost_signal_step;
        e["lost_signal_where"] = w.lost_signal_where;
      }
      waits.push_back(e);
    }
    j["wait_for"] = waits;
  }
  if (!r.starved.empty()) j["starved"] = r.starved;
  if (!r.max_bypass.empty()) j["max_bypass"] = r.max_bypass;
  if (!r.thread_processes.empty()) j["thread_processes"] = r.thread_processes;
  return j;
}

std::string ToTraceJson(const Report& r) {
  TraceEventWriter w;
  constexpr int kPid = 1;
  w.ProcessName(kPid, fmt::format("lab: {}", r.kind));
  for (std::size_t t = 0; t < r.thread_names.size(); ++t) {
    w.ThreadName(kPid, static_cast<int>(t) + 1, r.thread_names[t]);
  }
  for (const auto& s : r.schedule) {
    nlohmann::json args = {{"step", s.step}, {"where", s.where}};
    if (s.choice >= 0) args["choice"] = fmt::format("{} of {}", s.choice, s.alternatives);
    w.Complete(kPid, static_cast<int>(s.thread) + 1, Describe(s), static_cast<double>(s.step), 1.0,
               args, s.matters ? "matters" : "lab");
    if (s.matters) {
      w.Instant(kPid, static_cast<int>(s.thread) + 1, r.kind, static_cast<double>(s.step) + 0.5,
                {{"summary", r.summary}});
    }
  }
  std::uint64_t id = 1;
  for (auto [a, b] : r.flows) {
    if (a >= r.schedule.size() || b >= r.schedule.size()) continue;
    w.Flow(id++, kPid, static_cast<int>(r.schedule[a].thread) + 1, static_cast<double>(a) + 0.5, kPid,
           static_cast<int>(r.schedule[b].thread) + 1, static_cast<double>(b) + 0.5, r.kind);
  }
  return w.Dump(1);
}

}  // namespace lab
