// Starvation and livelock: planted bugs caught, correct twins clean.
#include <gtest/gtest.h>

#include "lab/explore.h"
#include "lab/gtest.h"
#include "lab/sync/sync.h"

namespace {

// A readers-writer lock built from a mutex and a condvar. With `writer_preference` false it is
// reader-preferring: new readers enter whenever no writer holds the lock, so a steady stream of
// overlapping readers keeps a writer out forever (the planted bug).
class HandRolledRwLock {
 public:
  explicit HandRolledRwLock(bool writer_preference) : writer_preference_(writer_preference) {}
  void lock_shared() {
    lab::MutexLock l(m_);
    while (writing_ || (writer_preference_ && waiting_writers_ > 0)) cv_.wait(m_);
    ++readers_;
  }
  void unlock_shared() {
    lab::MutexLock l(m_);
    if (--readers_ == 0) cv_.notify_all();
  }
  void lock() {
    lab::MutexLock l(m_);
    ++waiting_writers_;
    while (writing_ || readers_ > 0) cv_.wait(m_);
    --waiting_writers_;
    writing_ = true;
  }
  void unlock() {
    lab::MutexLock l(m_);
    writing_ = false;
    cv_.notify_all();
  }

 private:
  const bool writer_preference_;
  lab::Mutex m_{"rw.mutex"};
  lab::CondVar cv_{"rw.cv"};
  int readers_ LAB_GUARDED_BY(m_) = 0;
  int waiting_writers_ LAB_GUARDED_BY(m_) = 0;
  bool writing_ LAB_GUARDED_BY(m_) = false;
};

void ReadersAndAWriter(bool writer_preference) {
  HandRolledRwLock rw(writer_preference);
  lab::Atomic<bool> written{false};
  auto reader = [&] {
    // Readers keep reading until the writer has written (a cache refreshed by one writer).
    while (!written.load()) {
      rw.lock_shared();
      lab::yield_point();
      lab::yield_point();
      lab::yield_point();
      rw.unlock_shared();
      lab::progress();
    }
  };
  lab::Thread r1(reader), r2(reader), r3(reader);
  lab::Thread w([&] {
    rw.lock();
    written.store(true);
    rw.unlock();
    lab::progress();
  });
  r1.join();
  r2.join();
  r3.join();
  w.join();
}

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
