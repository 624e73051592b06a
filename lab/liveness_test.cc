// Starvation and livelock: planted bugs caught, correct twins clean.
#include <gtest/gtest.h>

#include "lab/explore.h"
#include "lab/gtest.h"
#include "lab/reader_preference_program.h"
#include "lab/sync/sync.h"

namespace {

using lab::testing::ReadersAndAWriter;

TEST(Starvation, ReaderPreferenceStarvesTheWriter) {
  auto r = lab::Explore({.iterations = 500, .starvation_bound = 300, .quiet = true},
                        [] { ReadersAndAWriter(false); });
  const lab::Report* f = r.First("starvation");
  ASSERT_NE(f, nullptr) << r.Text();
  EXPECT_NE(f->summary.find("T4"), std::string::npos) << "the writer is T4: " << f->summary;
}

TEST(Starvation, WriterPreferenceIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 500, .starvation_bound = 300},
                   [] { ReadersAndAWriter(true); });
}

TEST(Starvation, TryLockSpinnerBypassedIsReportedWithFairnessFigures) {
  // T2 only ever try_locks; T1 holds the lock almost always.
  auto r = lab::Explore({.iterations = 50, .starvation_bound = 300, .quiet = true}, [] {
    lab::Mutex m;
    lab::Atomic<bool> done{false};
    lab::Thread hog([&] {
      for (int i = 0; i < 400 && !done.load(); ++i) {
        m.lock();
        lab::yield_point();
        lab::yield_point();
        lab::yield_point();
        m.unlock();
        lab::progress();
      }
    });
    lab::Thread polite([&] {
      for (;;) {
        if (m.try_lock()) {
          done.store(true);
          m.unlock();
          lab::progress();
          return;
        }
        lab::yield_point();
      }
    });
    hog.join();
    polite.join();
  });
  // Either the spinner got in (then the run was fair enough) or it starved: both are possible
  // per schedule; across 50 executions the bypass figures must show it waiting the longest.
  ASSERT_GE(r.max_bypass.size(), 3u);
  EXPECT_GE(r.max_bypass[2], r.max_bypass[1]) << r.Text();
}

// Two threads each wait (spinning) for the other's flag before raising their own.
void SpinHandshake(bool broken) {
  lab::Atomic<bool> a_ready{false}, b_ready{false};
  lab::Thread a([&] {
    while (!b_ready.load()) lab::yield_point();
    a_ready.store(true);
  });
  lab::Thread b([&] {
    if (broken) {
      while (!a_ready.load()) lab::yield_point();
      b_ready.store(true);
    } else {
      b_ready.store(true);
      while (!a_ready.load()) lab::yield_point();
    }
  });
  a.join();
  b.join();
}

TEST(Livelock, SpinningOnEachOthersFlagIsALivelock) {
  auto r = lab::Explore({.iterations = 10, .starvation_bound = 500, .quiet = true},
                        [] { SpinHandshake(true); });
  ASSERT_TRUE(r.Found("livelock")) << r.Text();
}

TEST(Livelock, OneSideGoingFirstIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 300, .starvation_bound = 500},
                   [] { SpinHandshake(false); });
}

TEST(Hang, StepBoundEndsAnEndlessButProgressingExecution) {
  EXPECT_LAB_FINDS("hang", lab::Options{.iterations = 2, .max_steps = 2000}, [] {
    for (;;) lab::progress();
  });
}

}  // namespace
