// The HTML rendering of real findings (explored here, not hand-made), and its escaping.
#include "lab/report/html.h"

#include <gtest/gtest.h>

#include <string>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

#include <fmt/format.h>

#include "lab/explore.h"
#include "lab/reader_preference_program.h"
#include "lab/sync/sync.h"

namespace {

using lab::testing::ReadersAndAWriter;

std::size_t Count(const std::string& hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

lab::Report Find(std::string_view kind, lab::Options o, std::function<void()> body) {
  o.quiet = true;
  auto r = lab::Explore(o, std::move(body));
  const lab::Report* f = r.First(kind);
  EXPECT_NE(f, nullptr) << r.Text();
  return f ? *f : lab::Report{};
}

void AbBa() {
  lab::Mutex a("fork<A>"), b("fork&B");
  lab::Thread t1([&] {
    lab::MutexLock la(a);
    lab::MutexLock lb(b);  // line-marker: t1 takes B
  });
  lab::Thread t2([&] {
    lab::MutexLock lb(b);
    lab::MutexLock la(a);  // line-marker: t2 takes A
  });
  t1.join();
  t2.join();
}

TEST(Html, DeadlockPageDrawsTheCycleWithHoldersAndWaiters) {
  lab::Report r = Find("deadlock", {.iterations = 200}, AbBa);
  ASSERT_FALSE(r.wait_for.empty());
  const std::string page = lab::RenderHtml(r, {.title = "ab/ba"});
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(Count(page, "<svg class=\"waitfor\""), 1u);
  // Object names are escaped everywhere (in the SVG too).
  EXPECT_NE(page.find("fork&lt;A&gt;"), std::string::npos);
  EXPECT_NE(page.find("fork&amp;B"), std::string::npos);
  EXPECT_EQ(page.find("fork<A>"), std::string::npos);
  // Both waiters, each with its holder, in the table under the drawing.
  EXPECT_EQ(Count(page, "<tr class=\"cycle\">"), 2u) << page;
  EXPECT_GE(Count(page, "class=\"edge wait cycle\""), 2u);
  EXPECT_GE(Count(page, "class=\"edge hold cycle\""), 2u);
  // One step element per scheduled step, the key ones marked.
  EXPECT_EQ(Count(page, "<div class=\"step"), r.schedule.size());
  EXPECT_EQ(Count(page, "<div class=\"step key"), r.key_steps.size());
  // The source of the blocking steps, read from this very file (runfiles).
  EXPECT_NE(page.find("line-marker: t1 takes B"), std::string::npos) << page;
  EXPECT_NE(page.find("src-line hit"), std::string::npos);
  EXPECT_EQ(page.find("source not found"), std::string::npos) << page;
  // Teaching text, replay command with its copy button; no network.
  EXPECT_NE(page.find("What this means"), std::string::npos);
  EXPECT_NE(page.find("<code class=\"replay\""), std::string::npos);
  EXPECT_NE(page.find("LAB_REPLAY="), std::string::npos);
  EXPECT_NE(page.find("class=\"copy\""), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // the SVG namespace only
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find(" src=\""), std::string::npos);
}

void Counter() {
  lab::Shared<int> x{0, "counter"};
  auto inc = [&] { x.write(x.read() + 1); };
  lab::Thread a(inc), b(inc);
  a.join();
  b.join();
}

TEST(Html, RacePageLinksBothAccessesAndSaysWhyTheyAreUnordered) {
  lab::Report r = Find("data-race", {.iterations = 100}, Counter);
  ASSERT_EQ(r.key_steps.size(), 2u);
  const std::string page = lab::RenderHtml(r);
  EXPECT_EQ(Count(page, "race-access\""), 2u) << page;
  // Each access links to the other.
  EXPECT_NE(page.find(fmt::format("href=\"#step-0-{}\">access 1", r.key_steps[1])), std::string::npos) << page;
  EXPECT_NE(page.find(fmt::format("href=\"#step-0-{}\">access 2", r.key_steps[0])), std::string::npos) << page;
  EXPECT_NE(page.find("Why neither happens before the other"), std::string::npos);
  EXPECT_EQ(page.find("<svg class=\"waitfor\""), std::string::npos);
}

void Handoff() {
  lab::Mutex m("m");
  lab::CondVar cv("ready_cv");
  lab::Thread waiter([&] {
    lab::MutexLock l(m);
    cv.wait(m);
  });
  lab::Thread notifier([&] {
    lab::MutexLock l(m);
    cv.notify_one();
  });
  waiter.join();
  notifier.join();
}

TEST(Html, LostWakeupPageShowsTheLostNotification) {
  lab::Report r = Find("lost-wakeup", {.iterations = 200}, Handoff);
  const std::string page = lab::RenderHtml(r);
  EXPECT_NE(page.find("<svg class=\"waitfor\""), std::string::npos);
  EXPECT_NE(page.find("class=\"edge lost\""), std::string::npos) << page;
  EXPECT_NE(page.find("while nobody waited"), std::string::npos);
}

TEST(Html, StarvationPageCountsBypassesPerThread) {
  // The reader-preferring lock of lab/reader_preference_program.h: the writer T4 starves.
  lab::Report r = Find("starvation", {.iterations = 500, .starvation_bound = 300},
                       [] { ReadersAndAWriter(false); });
  ASSERT_EQ(r.starved, "T4");
  const std::string page = lab::RenderHtml(r);
  EXPECT_NE(page.find("<table class=\"bypass\">"), std::string::npos);
  EXPECT_EQ(Count(page, "<tr class=\"starved\"><td>T4</td>"), 1u) << page;
  EXPECT_NE(page.find("the starved thread"), std::string::npos);
}

TEST(Html, EverythingIsEscapedAndMissingSourcesAreSaid) {
  lab::Report r;
  r.kind = "assertion-failure";
  r.summary = "x <script>alert('s')</script> & \"q\"";
  r.details = {"</pre><b>d</b>"};
  r.thread_names = {"T0", "<T1>"};
  r.replay_command = "echo '<x>' && true";
  r.schedule = {{.step = 0, .thread = 0, .thread_name = "T0", .op = "lock", .object = "<m>",
                 .where = "no/such/file.cc:7"},
                {.step = 1, .thread = 1, .thread_name = "<T1>", .op = "unlock", .object = "m\"",
                 .where = "Worker() at lab/report/html_test.cc:1", .matters = true}};
  r.key_steps = {1};
  const std::string page = lab::RenderHtml(r, {.title = "<t>", .facts = {{"a<", "b>"}}});
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("</pre><b>d"), std::string::npos);
  EXPECT_EQ(page.find("<T1>"), std::string::npos);
  EXPECT_EQ(page.find("<m>"), std::string::npos);
  EXPECT_EQ(page.find("<t>"), std::string::npos);
  EXPECT_NE(page.find("echo &#39;&lt;x&gt;&#39; &amp;&amp; true"), std::string::npos);
  EXPECT_NE(page.find("&lt;T1&gt;"), std::string::npos);
  EXPECT_EQ(Count(page, "<script>"), 1u);  // only the page's own
  // The first location does not exist; the second ("func at file:line") is this file's line 1.
  EXPECT_NE(page.find("source not found"), std::string::npos);
  EXPECT_NE(page.find("// The HTML rendering of real findings"), std::string::npos) << page;
}

TEST(Html, LongSchedulesFoldTheStepsThatDoNotMatter) {
  lab::Report r;
  r.kind = "hang";
  r.summary = "long";
  r.thread_names = {"T0", "T1"};
  for (std::uint64_t i = 0; i < 100; ++i) {
    r.schedule.push_back({.step = i, .thread = static_cast<lab::ThreadId>(i % 2),
                          .thread_name = i % 2 ? "T1" : "T0", .op = "yield", .matters = i == 50});
  }
  r.key_steps = {50};
  const std::string page = lab::RenderHtml(r);
  EXPECT_EQ(Count(page, "<div class=\"step"), 100u);
  EXPECT_EQ(Count(page, "<details class=\"fold\">"), 2u) << page;  // before and after the context
  // The key step and its context stay outside the folds.
  const auto key = page.find("id=\"step-0-50\"");
  const auto fold2 = page.rfind("<details class=\"fold\">");
  EXPECT_LT(key, fold2);
  EXPECT_GT(key, page.find("</details>"));
}

TEST(Html, NoFindingPageShowsTheFacts) {
  const std::string page =
      lab::RenderHtml(std::span<const lab::Report>{}, {.title = "pc/correct", .facts = {{"schedules", "500"}}});
  EXPECT_NE(page.find("No finding"), std::string::npos);
  EXPECT_NE(page.find("<td>500</td>"), std::string::npos);
}

TEST(Html, SeveralFindingsGetDistinctIds) {
  lab::Report r = Find("data-race", {.iterations = 100}, Counter);
  std::vector<lab::Report> two = {r, r};
  const std::string page = lab::RenderHtml(two);
  EXPECT_NE(page.find("id=\"report-0\""), std::string::npos);
  EXPECT_NE(page.find("id=\"report-1\""), std::string::npos);
  EXPECT_NE(page.find("id=\"replay-1\""), std::string::npos);
  EXPECT_EQ(Count(page, "id=\"step-1-0\""), 1u);
}

TEST(Html, WriteHtmlFileNamesTheFailure) {
  auto w = lab::WriteHtmlFile("/nonexistent-dir/x.html", "x");
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().find("/nonexistent-dir/x.html"), std::string::npos);
}

}  // namespace

namespace {

TEST(Html, LabHtmlDirWritesAPagePerFinding) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string dir = std::string(tmp) + "/html-dir";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST, true);
  ::setenv("LAB_HTML_DIR", dir.c_str(), 1);
  auto r = lab::Explore({.iterations = 200, .name = "Suite.AbBa", .quiet = true}, AbBa);
  ::unsetenv("LAB_HTML_DIR");
  ASSERT_TRUE(r.Found("deadlock")) << r.Text();
  std::ifstream in(dir + "/Suite_AbBa-deadlock.html");
  ASSERT_TRUE(in) << "no page in " << dir;
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg class=\"waitfor\""), std::string::npos);
  EXPECT_NE(page.find(lab::HtmlEscape(r.First("deadlock")->replay_command)), std::string::npos);
}

}  // namespace
