// lab/report/report.h: a finding of the lab, ready to read, store and replay.
//
// A Report is cut from the event log of the failing execution (after shrinking): the kind of bug
// (the vocabulary of design.md), a one-line summary, teaching details (the wait-for cycle, both
// racing accesses, ...), the steps that matter, the whole schedule, and the replay token and
// command. Three renderings: text (for people; RenderText with `explain` adds what the kind means
// and how it is usually fixed), JSON (`kind` first; for tools) and a Chrome trace-event timeline
// (one row per thread, arrows for the race pair / wait-for edges; opens in Perfetto).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/rt/event.h"
#include "lab/rt/execution.h"
#include "lab/rt/finding.h"

namespace lab {

struct ReportStep {
  StepIndex step = 0;
  ThreadId thread = kNoThread;
  std::string thread_name{};
  std::string op{};
  std::string object{};     // empty when the op has none
  std::string where{};      // file:line
  std::int64_t value = 0;
  std::int32_t choice = -1;
  std::uint32_t alternatives = 1;
  bool matters = false;     // one of the finding's key steps
};

struct Report {
  std::string kind;
  std::string summary;
  std::vector<std::string> details;
  std::vector<ReportStep> schedule;              // every step of the (shrunk) failing execution
  std::vector<StepIndex> key_steps;
  std::vector<std::pair<StepIndex, StepIndex>> flows;
  std::vector<std::string> thread_names;
  std::string strategy;                          // that found it
  std::uint64_t seed = 0;                        // of the execution that found it
  std::uint64_t execution = 0;                   // its index in the exploration
  std::size_t original_choices = 0;              // schedule length as found
  std::size_t shrunk_choices = 0;                // after shrinking
  int shrink_attempts = 0;
  std::uint64_t preemptions = 0;                 // in the reported schedule
  std::string token;                             // LAB_REPLAY value
  std::string replay_command;
  std::string determinism;                       // result of replaying the schedule twice
  std::vector<std::uint32_t> choices;            // the reported schedule
  // Additions for drawings (lab/report/html.h); empty when the finding has none.
  std::vector<rt::WaitFor> wait_for;             // deadlock / lost-wakeup: every blocked thread
  std::string starved;                           // starvation: the starving thread
  std::vector<std::uint64_t> max_bypass;         // by thread: longest stretch without progress
  std::vector<std::string> thread_processes;     // by thread: its process (empty: one process)

  // The steps that matter, with their context (the step before each, for the other threads).
  std::vector<ReportStep> StepsThatMatter() const;
};

// Builds the report of `finding` from the execution that produced it.
Report MakeReport(const rt::ExecutionRecord& record, const rt::Finding& finding);

// "blocks in lock fork1", "notify_one cv (woke 1)": one step in words (all renderings share it).
std::string DescribeStep(const ReportStep& step);

// What a kind of finding means and how it is usually fixed (a few lines).
std::string_view Explain(std::string_view kind);
std::string RenderText(const Report& report, bool explain = true);
nlohmann::ordered_json ToJson(const Report& report);   // "kind" first
std::string ToTraceJson(const Report& report);

}  // namespace lab
