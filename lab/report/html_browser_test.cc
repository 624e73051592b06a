// Report pages in a real browser (headless Chromium): the rendered DOM has the steps, the cycle,
// both racing accesses and the replay command; a scripted key press moves the step-through
// highlight (Chrome DevTools Protocol, Input.dispatchKeyEvent); with the page's scripts
// disabled everything that matters is still laid out and visible.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "lab/explore.h"
#include "lab/report/chromium.h"
#include "lab/report/html.h"
#include "lab/sync/sync.h"

namespace {

using lab::testing::Browser;

std::size_t Count(const std::string& hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

lab::Report Find(std::string_view kind, std::function<void()> body) {
  auto r = lab::Explore({.iterations = 200, .quiet = true}, std::move(body));
  const lab::Report* f = r.First(kind);
  EXPECT_NE(f, nullptr) << r.Text();
  return f ? *f : lab::Report{};
}

void AbBa() {
  lab::Mutex a("A"), b("B");
  lab::Thread t1([&] {
    lab::MutexLock la(a);
    lab::MutexLock lb(b);
  });
  lab::Thread t2([&] {
    lab::MutexLock lb(b);
    lab::MutexLock la(a);
  });
  t1.join();
  t2.join();
}

void Counter() {
  lab::Shared<int> x{0, "counter"};
  auto inc = [&] { x.write(x.read() + 1); };
  lab::Thread a(inc), b(inc);
  a.join();
  b.join();
}

// One browser for the suite: starting Chromium takes seconds (tens on a loaded machine).
class HtmlInBrowser : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = lab::testing::TempDir::Create();
    ASSERT_TRUE(dir) << dir.error();
    dir_ = new lab::testing::TempDir(std::move(*dir));
    deadlock_ = new lab::Report(Find("deadlock", AbBa));
    race_ = new lab::Report(Find("data-race", Counter));
    ASSERT_TRUE(lab::WriteHtmlFile(Path("deadlock.html"), lab::RenderHtml(*deadlock_, {.title = "ab/ba"})));
    ASSERT_TRUE(lab::WriteHtmlFile(Path("race.html"), lab::RenderHtml(*race_, {.title = "counter"})));
    auto b = Browser::Launch(std::chrono::seconds(150));
    ASSERT_TRUE(b) << b.error();
    browser_ = b->release();
  }
  static void TearDownTestSuite() {
    delete browser_;
    delete deadlock_;
    delete race_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(browser_, nullptr) << "no browser (see the suite's set-up failure)";
    ASSERT_TRUE(browser_->SetScriptsDisabled(false));
  }
  static std::string Path(const std::string& file) { return dir_->file(file); }

  static lab::testing::TempDir* dir_;
  static lab::Report* deadlock_;
  static lab::Report* race_;
  static Browser* browser_;
};

lab::testing::TempDir* HtmlInBrowser::dir_ = nullptr;
lab::Report* HtmlInBrowser::deadlock_ = nullptr;
lab::Report* HtmlInBrowser::race_ = nullptr;
Browser* HtmlInBrowser::browser_ = nullptr;

TEST_F(HtmlInBrowser, DumpedDomHasStepsCycleAndReplay) {
  auto dom = lab::testing::DumpDom(Path("deadlock.html"));
  ASSERT_TRUE(dom) << dom.error();
  // The page's script ran (it marks the document) and nothing of the page was lost in parsing.
  EXPECT_NE(dom->find("<html lang=\"en\" class=\"js\">"), std::string::npos) << dom->substr(0, 300);
  EXPECT_EQ(Count(*dom, "<div class=\"step"), deadlock_->schedule.size());
  EXPECT_EQ(Count(*dom, "<svg class=\"waitfor\""), 1u);
  EXPECT_GE(Count(*dom, "class=\"node thread\""), 2u);
  EXPECT_GE(Count(*dom, "class=\"node object\""), 2u);
  EXPECT_NE(dom->find("<code class=\"replay\" id=\"replay-0\">" + lab::HtmlEscape(deadlock_->replay_command)),
            std::string::npos);
}

TEST_F(HtmlInBrowser, RenderedDomHasBothRacingAccesses) {
  ASSERT_TRUE(browser_->Open("file://" + Path("race.html")));
  auto html = browser_->Evaluate("document.documentElement.outerHTML");
  ASSERT_TRUE(html && html->is_string()) << (html ? html->dump() : html.error());
  const std::string dom = html->get<std::string>();

  EXPECT_EQ(Count(dom, "race-access\""), 2u);
  EXPECT_NE(dom.find(fmt::format("id=\"step-0-{}\"", race_->key_steps[0])), std::string::npos);
  EXPECT_NE(dom.find(fmt::format("id=\"step-0-{}\"", race_->key_steps[1])), std::string::npos);
  EXPECT_NE(dom.find("Why neither happens before the other"), std::string::npos);
  EXPECT_NE(dom.find("<code class=\"replay\""), std::string::npos);
}

TEST_F(HtmlInBrowser, KeyPressesStepThroughLanesAndSource) {
  Browser* b = browser_;
  ASSERT_TRUE(b->Open("file://" + Path("deadlock.html")));
  auto current = [&]() -> std::string {
    auto v = b->Evaluate(
        "(function(){var s=document.querySelectorAll('.step.current');"
        "if(s.length!==1)return 'steps:'+s.length;"
        "var l=document.querySelectorAll('.src-line.current');"
        "var f=l.length===1?l[0].closest('figure').id:'lines:'+l.length;"
        "var lane=document.querySelectorAll('.lane.current');"
        "return s[0].dataset.step+'|'+(f===s[0].dataset.src?'src-ok':'src-bad:'+f)+'|'+"
        "(lane.length===1?lane[0].textContent:'lanes:'+lane.length)})()");
    return v && v->is_string() ? v->get<std::string>() : (v ? v->dump() : v.error());
  };
  EXPECT_EQ(current(), "steps:0");
  const auto& s = deadlock_->schedule;
  ASSERT_GE(s.size(), 3u);
  ASSERT_TRUE(b->PressKey("j"));
  EXPECT_EQ(current(), fmt::format("{}|src-ok|{}", s[0].step, s[0].thread_name));
  ASSERT_TRUE(b->PressKey("j"));
  EXPECT_EQ(current(), fmt::format("{}|src-ok|{}", s[1].step, s[1].thread_name));
  ASSERT_TRUE(b->PressKey("ArrowDown"));
  EXPECT_EQ(current(), fmt::format("{}|src-ok|{}", s[2].step, s[2].thread_name));
  ASSERT_TRUE(b->PressKey("k"));
  EXPECT_EQ(current(), fmt::format("{}|src-ok|{}", s[1].step, s[1].thread_name));
  // n: the next key step after step 1.
  ASSERT_TRUE(b->PressKey("n"));
  lab::StepIndex next_key = 0;
  for (auto k : deadlock_->key_steps) {
    if (k > s[1].step) {
      next_key = k;
      break;
    }
  }
  EXPECT_EQ(current(), fmt::format("{}|src-ok|{}", next_key, s[next_key].thread_name));
  // A folded step is opened when the highlight reaches it.
  auto open = b->Evaluate(
      "(function(){var c=document.querySelector('.step.current');var d=c.closest('details');"
      "return d?d.open:true})()");
  ASSERT_TRUE(open) << open.error();
  EXPECT_EQ(*open, true);
}

TEST_F(HtmlInBrowser, WithScriptsDisabledEverythingIsStillLaidOut) {
  Browser* b = browser_;
  ASSERT_TRUE(b->SetScriptsDisabled(true));
  ASSERT_TRUE(b->Open("file://" + Path("deadlock.html")));
  auto v = b->Evaluate(
      "(function(){function vis(e){var r=e.getBoundingClientRect();"
      "return r.width>0&&r.height>0&&getComputedStyle(e).visibility!=='hidden'}"
      "var out={js:document.documentElement.classList.contains('js')};"
      "out.key=Array.prototype.every.call(document.querySelectorAll('.step.key'),vis);"
      "out.keys=document.querySelectorAll('.step.key').length;"
      "out.svg=vis(document.querySelector('svg.waitfor'));"
      "out.replay=vis(document.querySelector('code.replay'));"
      "out.summary=vis(document.querySelector('.summary'));"
      "out.source=vis(document.querySelector('.src-line.hit'));"
      "var f=document.querySelector('details.fold');"
      "out.fold=!f||vis(f.querySelector('summary'));"
      "out.copy=vis(document.querySelector('button.copy'));"
      "return out})()");
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ((*v)["js"], false) << "the page's script ran: " << v->dump();
  EXPECT_EQ((*v)["keys"], deadlock_->key_steps.size()) << v->dump();
  EXPECT_EQ((*v)["key"], true) << v->dump();
  EXPECT_EQ((*v)["svg"], true) << v->dump();
  EXPECT_EQ((*v)["replay"], true) << v->dump();
  EXPECT_EQ((*v)["summary"], true) << v->dump();
  EXPECT_EQ((*v)["source"], true) << v->dump();
  EXPECT_EQ((*v)["fold"], true) << v->dump();
  EXPECT_EQ((*v)["copy"], false) << "a copy button that cannot work is hidden: " << v->dump();
}

}  // namespace
