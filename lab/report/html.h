// lab/report/html.h: a finding as one self-contained HTML page (for teaching).
//
// The page is a fourth rendering of the same lab::Report as RenderText, ToJson and ToTraceJson
// (no second analysis): inline CSS and JS, no network, opens from disk. It shows
//   - the kind, the summary, the detail lines and (HtmlOptions::explain) the teaching text;
//   - a swimlane timeline: one lane per thread (grouped by process when the report names them),
//     the numbered steps in order; the steps that matter emphasised, the others folded into
//     <details> blocks (they open without JavaScript);
//   - for a data race, both accesses linked, with why neither happens before the other; for a
//     deadlock or a lost wakeup, the wait-for graph as inline SVG (who holds and who waits for
//     each object); for starvation, per thread the steps it ran while the starved one waited and
//     its longest stretch without progress;
//   - the source lines of every step (a few lines of context, read when the page is generated;
//     the page says so when a file cannot be found), and the replay command with a copy button;
//   - keyboard step-through: j / ArrowDown / ArrowRight next step, k / ArrowUp / ArrowLeft
//     previous, highlighting the step in its lane and its source line.
// With JavaScript disabled everything is readable; only step-through and the copy button are lost.
//
//   lab::HtmlOptions o{.title = "dining_philosophers/naive"};
//   std::string page = lab::RenderHtml(report, o);
//   if (auto w = lab::WriteHtmlFile("out.html", page); !w) std::cerr << w.error() << "\n";
//
// Stable DOM hooks (tests and tools rely on them): every step is an element with class "step",
// id "step-<report>-<step>" and data-step="<step>"; key steps also have class "key"; the race
// accesses have class "race-access"; the wait-for graph is <svg class="waitfor">; the replay
// command is <code class="replay">; the current step (step-through) has class "current" and its
// source line too (class "src-line current").
#pragma once

#include <cstddef>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lab/report/report.h"

namespace lab {

struct HtmlOptions {
  std::string title{};                  // page heading; default "ipclab: <kind>"
  std::string subtitle{};               // one line under it (e.g. what the case does)
  // Facts shown as a small table at the top (expected verdict, schedules explored, time...).
  std::vector<std::pair<std::string, std::string>> facts{};
  bool explain = true;                // the teaching text of the kind (lab::Explain)
  std::string explanation{};            // extra teaching text specific to this program / case
  std::string doc{};                    // a further-reading reference, shown as text
  std::string back_link{};              // href of an "up" link (catalogue pages: "index.html")
  std::string back_label = "back";
  // Where `file:line` of a step is looked up, in order, before $LAB_SOURCE_ROOT,
  // $BUILD_WORKSPACE_DIRECTORY, the working directory and the Bazel execroot of this binary.
  std::vector<std::string> source_roots{};
  int context_lines = 3;              // source lines shown before and after each step's line
  std::size_t fold_limit = 2000;      // steps beyond this are summarised, not listed
};

// One finding.
std::string RenderHtml(const Report& report, const HtmlOptions& options = {});
// Several findings on one page (an exploration that found more than one, a stress campaign);
// none gives a "no finding" page that still shows the facts.
std::string RenderHtml(std::span<const Report> reports, const HtmlOptions& options = {});

// Writes `html` to `path` (replacing it); the error names the path and errno.
std::expected<void, std::string> WriteHtmlFile(const std::string& path, const std::string& html);

// HTML-escapes & < > " ' (exposed for pages built around reports, e.g. the catalogue index).
std::string HtmlEscape(std::string_view text);
// The shared stylesheet of report pages (so that index pages look the same).
std::string_view HtmlStyle();

}  // namespace lab
