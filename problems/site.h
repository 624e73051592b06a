// problems/site.h: the catalogue as a small static web site, and the HTML page of one case.
//
//   std::vector<problems::Outcome> outcomes = ...;            // one RunCase per case
//   auto written = problems::WriteSite("out", outcomes, 12.5);  // out/index.html + one page each
//
// index.html lists every case (expected and found verdict, whether that is as expected, the
// schedules explored, the time) and links each case's page, a lab::RenderHtml page with the
// case's description and explanation; a case whose run found nothing gets a "no finding" page
// with the same facts. Everything is self-contained (no network), readable without JavaScript.
#pragma once

#include <expected>
#include <span>
#include <string>

#include "lab/report/html.h"
#include "problems/runner.h"

namespace problems {

// The page options of one outcome: title, description, facts, explanation, doc.
lab::HtmlOptions CaseHtmlOptions(const Outcome& outcome, std::string_view how = {});
// The page of one outcome (its finding, or a "no finding" page).
std::string CasePage(const Outcome& outcome, const lab::HtmlOptions& options);
// "dining_philosophers/naive" -> "dining_philosophers.naive.html".
std::string CasePageName(const Case& c);
// The index page of `outcomes`, linking CasePageName(case) for each.
std::string IndexPage(std::span<const Outcome> outcomes, double seconds);
// Writes `dir`/index.html and every case page (creating `dir` if needed). The error is one line.
std::expected<void, std::string> WriteSite(const std::string& dir, std::span<const Outcome> outcomes,
                                           double seconds);

}  // namespace problems
