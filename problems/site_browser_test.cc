// The catalogue site (what `ipclab catalogue --html DIR` writes), every page loaded in headless
// Chromium: the index lists every case and links its page; each page shows its verdict with the
// drawing its kind calls for (the wait-for graph, both racing accesses, bypass counts), the steps,
// the source of each step and the replay command; every in-page link resolves.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/report/chromium.h"
#include "problems/all.h"
#include "problems/runner.h"
#include "problems/site.h"

namespace problems {
namespace {

TEST(SiteInBrowser, EveryPageOfTheCatalogueSite) {
  const auto start = std::chrono::steady_clock::now();
  static const Catalogue* cat = new Catalogue(FullCatalogue());
  std::vector<Outcome> outcomes;
  for (const Case& c : cat->cases()) outcomes.push_back(RunCase(c));
  auto dir = lab::testing::TempDir::Create();
  ASSERT_TRUE(dir) << dir.error();
  const std::string site = dir->file("site");
  ASSERT_TRUE(WriteSite(site, outcomes, 1.0));
  const double generated = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto browser = lab::testing::Browser::Launch(std::chrono::seconds(150));
  ASSERT_TRUE(browser) << browser.error();
  lab::testing::Browser& b = **browser;

  ASSERT_TRUE(b.Open("file://" + site + "/index.html"));
  auto links = b.Evaluate(
      "Array.prototype.map.call(document.querySelectorAll('tr.case'), function (tr) {"
      "  var a = tr.querySelector('a'); return [tr.dataset.case, a.getAttribute('href'),"
      "  tr.children[2].textContent]; })");
  ASSERT_TRUE(links) << links.error();
  ASSERT_EQ(links->size(), outcomes.size());

  // Per page, what the rendered DOM shows, as one JSON object.
  const std::string probe = R"JS((function () {
    function n(sel) { return document.querySelectorAll(sel).length; }
    var broken = [];
    Array.prototype.forEach.call(document.querySelectorAll('a[href^="#"]'), function (a) {
      if (!document.getElementById(a.getAttribute('href').slice(1))) broken.push(a.getAttribute('href'));
    });
    var replay = document.querySelector('code.replay');
    var report = document.querySelector('section.report');
    return {
      title: document.querySelector('h1').textContent,
      kind: report ? (report.dataset.kind || 'clean') : 'none',
      clean: n('section.report.clean'),
      steps: n('.step'), keys: n('.step.key'),
      waitfor: n('svg.waitfor'), waitnodes: n('svg.waitfor .node'),
      race: n('.race-access'), bypass: n('table.bypass tr.starved'),
      replay: replay ? replay.textContent : '',
      sources: n('figure.src'), missing: n('figure.src.missing'), hits: n('.src-line.hit'),
      broken: broken, back: document.querySelector('a.up') ? document.querySelector('a.up').getAttribute('href') : ''
    };
  })())JS";

  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    SCOPED_TRACE(o.c->name);
    const auto& row = (*links)[i];
    ASSERT_EQ(row[0], o.c->name);
    ASSERT_EQ(row[1], CasePageName(*o.c));
    EXPECT_EQ(row[2], o.verdict);
    ASSERT_TRUE(b.Open("file://" + site + "/" + row[1].get<std::string>()));
    auto p = b.Evaluate(probe);
    ASSERT_TRUE(p) << p.error();
    const auto& page = *p;
    EXPECT_EQ(page["title"], o.c->name) << page.dump();
    EXPECT_EQ(page["back"], "index.html");
    EXPECT_TRUE(page["broken"].empty()) << page.dump();
    const lab::Report* r = o.report();
    if (r == nullptr) {
      EXPECT_EQ(page["clean"], 1) << page.dump();
      continue;
    }
    EXPECT_EQ(page["kind"], o.verdict) << page.dump();
    EXPECT_GT(page["steps"].get<int>(), 0) << page.dump();
    EXPECT_GT(page["keys"].get<int>(), 0) << page.dump();
    EXPECT_EQ(page["replay"], r->replay_command) << page.dump();
    EXPECT_NE(page["replay"].get<std::string>().find(o.c->name), std::string::npos) << page.dump();
    // The catalogue's sources are in the runfiles: every location is shown, none missing.
    EXPECT_GT(page["sources"].get<int>(), 0) << page.dump();
    EXPECT_EQ(page["missing"], 0) << page.dump();
    EXPECT_EQ(page["hits"], page["sources"]) << page.dump();
    if (o.verdict == "deadlock" || o.verdict == "lost-wakeup") {
      EXPECT_EQ(page["waitfor"], 1) << page.dump();
      EXPECT_GE(page["waitnodes"].get<int>(), 2) << page.dump();
    }
    if (o.verdict == "data-race") EXPECT_EQ(page["race"], 2) << page.dump();
    if (o.verdict == "starvation") EXPECT_EQ(page["bypass"], 1) << page.dump();
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "site: %zu cases, generated in %.1f s, %zu pages checked in Chromium in %.1f s\n",
               outcomes.size(), generated, outcomes.size() + 1, total - generated);
}

}  // namespace
}  // namespace problems
