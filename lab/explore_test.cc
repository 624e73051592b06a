// Planted bugs, each caught by its detector, and the correct twin explored clean.
#include "lab/explore.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "lab/gtest.h"
#include "lab/report/token.h"
#include "lab/schedfuzz/planted_programs.h"
#include "lab/sync/sync.h"

namespace {

using namespace std::chrono_literals;

// ---- deadlock: AB/BA ----

using lab::schedfuzz::AbBa;   // lab/schedfuzz/planted_programs.h

TEST(Deadlock, AbBaIsFoundWithTheCycle) {
  auto r = lab::Explore({.iterations = 200, .quiet = true}, [] { AbBa(false); });
  const lab::Report* d = r.First("deadlock");
  ASSERT_NE(d, nullptr) << r.Text();
  EXPECT_NE(d->summary.find("cycle"), std::string::npos) << d->summary;
  std::string text = lab::RenderText(*d);
  EXPECT_NE(text.find("lock A "), std::string::npos) << text;
  EXPECT_NE(text.find("lock B "), std::string::npos) << text;
  // The steps name the program's source lines.
  EXPECT_NE(text.find("lab/schedfuzz/planted_programs.cc:"), std::string::npos) << text;
  EXPECT_NE(text.find("LAB_REPLAY="), std::string::npos) << text;
  EXPECT_LE(d->shrunk_choices, d->original_choices);
}

TEST(Deadlock, OrderedLockingIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 300}, [] { AbBa(true); });
}

TEST(Deadlock, AbBaIsALockOrderInversionEvenWhenItDoesNotHang) {
  // Sequential AB then BA in one thread never hangs, but the orders form a cycle.
  EXPECT_LAB_FINDS("lock-order-inversion", lab::Options{.iterations = 5}, [] {
    lab::Mutex a("A"), b("B");
    {
      lab::MutexLock la(a);
      lab::MutexLock lb(b);
    }
    lab::Thread t([&] {
      lab::MutexLock lb(b);
      lab::MutexLock la(a);
    });
    t.join();
  });
}

TEST(Deadlock, DfsExhaustsTheOrderedTwin) {
  auto r = lab::Explore({.strategy = lab::Dfs{}, .iterations = 100000, .quiet = true}, [] { AbBa(true); });
  EXPECT_TRUE(r.clean()) << r.Text();
  EXPECT_TRUE(r.exhausted) << r.Summary();
}

TEST(Deadlock, DfsFindsAbBa) {
  EXPECT_LAB_FINDS("deadlock", lab::Options{.strategy = lab::Dfs{}, .iterations = 100000}, [] { AbBa(false); });
}

// ---- assertion ----

TEST(Assertion, LostUpdateUnderAMissingLockFailsTheAssertion) {
  auto r = lab::Explore({.iterations = 500, .quiet = true}, [] {
    lab::Atomic<int> x{0};
    auto inc = [&] {
      int v = x.load();
      x.store(v + 1);
    };
    lab::Thread a(inc), b(inc);
    a.join();
    b.join();
    LAB_ASSERT_MSG(x.load() == 2, "both increments must land");
  });
  const lab::Report* f = r.First("assertion-failure");
  ASSERT_NE(f, nullptr) << r.Text();
  EXPECT_NE(f->summary.find("both increments must land"), std::string::npos);
}

TEST(Assertion, AtomicIncrementIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 500}, [] {
    lab::Atomic<int> x{0};
    auto inc = [&] { x.fetch_add(1); };
    lab::Thread a(inc), b(inc);
    a.join();
    b.join();
    LAB_ASSERT(x.load() == 2);
  });
}

TEST(Crash, AnExceptionEscapingAThreadIsACrash) {
  EXPECT_LAB_FINDS("crash", lab::Options{.iterations = 5}, [] {
    lab::Thread t([] {
      lab::yield_point();
      throw std::runtime_error("boom");
    });
    t.join();
  });
}

// ---- data race ----

void Counter(bool locked) {
  lab::Mutex m;
  lab::Shared<int> x{0, "counter"};
  auto inc = [&] {
    if (locked) {
      lab::MutexLock l(m);
      x.write(x.read() + 1);
    } else {
      x.write(x.read() + 1);
    }
  };
  lab::Thread a(inc), b(inc);
  a.join();
  b.join();
  LAB_ASSERT(x.read() == 2);
}

TEST(DataRace, UnprotectedSharedIntIsARace) {
  auto r = lab::Explore({.iterations = 100, .quiet = true}, [] { Counter(false); });
  const lab::Report* f = r.First("data-race");
  ASSERT_NE(f, nullptr) << r.Text();
  EXPECT_NE(f->summary.find("counter"), std::string::npos) << f->summary;
  EXPECT_EQ(f->key_steps.size(), 2u);
  EXPECT_EQ(f->flows.size(), 1u);
}

TEST(DataRace, MutexProtectedSharedIntIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 300}, [] { Counter(true); });
}

TEST(DataRace, ReleaseAcquirePublicationIsCleanAndRelaxedIsARace) {
  auto publish = [](std::memory_order store_order, std::memory_order load_order) {
    return [=] {
      lab::Shared<int> data{0, "data"};
      lab::Atomic<bool> ready{false};
      lab::Thread w([&] {
        data.write(42);
        ready.store(true, store_order);
      });
      lab::Thread r([&] {
        if (ready.load(load_order)) LAB_ASSERT(data.read() == 42);
      });
      w.join();
      r.join();
    };
  };
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 300},
                   publish(std::memory_order_release, std::memory_order_acquire));
  EXPECT_LAB_FINDS("data-race", lab::Options{.iterations = 300},
                   publish(std::memory_order_relaxed, std::memory_order_relaxed));
}

// ---- lost wakeup ----

using lab::schedfuzz::Handoff;   // lab/schedfuzz/planted_programs.h

TEST(LostWakeup, NotifyBeforeWaitWithoutPredicateIsFound) {
  auto r = lab::Explore({.iterations = 200, .quiet = true}, [] { Handoff(false); });
  const lab::Report* f = r.First("lost-wakeup");
  ASSERT_NE(f, nullptr) << r.Text();
  EXPECT_NE(f->summary.find("ready_cv"), std::string::npos) << f->summary;
}

TEST(LostWakeup, PredicateLoopIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 300}, [] { Handoff(true); });
}

TEST(LostWakeup, IfInsteadOfWhileIsFoundWithSpuriousWakeups) {
  auto consumer = [](bool use_while) {
    return [=] {
      lab::Mutex m;
      lab::CondVar cv;
      int items = 0;
      lab::Thread c([&] {
        lab::MutexLock l(m);
        if (use_while) {
          while (items == 0) cv.wait(m);
        } else if (items == 0) {
          cv.wait(m);
        }
        LAB_ASSERT_MSG(items > 0, "consumer woke with nothing to take");
        --items;
      });
      lab::Thread p([&] {
        lab::MutexLock l(m);
        ++items;
        cv.notify_one();
      });
      c.join();
      p.join();
    };
  };
  EXPECT_LAB_FINDS("assertion-failure", lab::Options{.iterations = 500, .spurious_wakeups = true},
                   consumer(false));
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 500, .spurious_wakeups = true}, consumer(true));
}

// ---- semaphores, timed waits, virtual time ----

TEST(Semaphore, TimedAcquireTimesOutInVirtualTimeAndPostWakes) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 200}, [] {
    lab::Semaphore s(0);
    auto before = lab::now();
    bool got = s.try_acquire_for(50ms);
    LAB_ASSERT(!got);
    LAB_ASSERT(lab::now() - before >= 50ms);
    lab::Thread poster([&] {
      lab::sleep_for(10ms);
      s.release();
    });
    s.acquire();
    poster.join();
  });
}

TEST(Semaphore, WaitingForAPostThatNeverComesIsADeadlock) {
  EXPECT_LAB_FINDS("deadlock", lab::Options{.iterations = 5}, [] {
    lab::Semaphore s(0);
    s.acquire();
  });
}

TEST(Mutex, TryLockForTimesOutWhileHeld) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 200}, [] {
    lab::Mutex m;
    lab::Atomic<int> took{0};
    m.lock();
    lab::Thread t([&] {
      if (m.try_lock_for(5ms)) {
        took.fetch_add(1);
        m.unlock();
      }
    });
    lab::sleep_for(1ms);
    m.unlock();
    t.join();
  });
}

TEST(RwLock, ReadersShareWritersExclude) {
  EXPECT_LAB_CLEAN(lab::Options{.iterations = 300}, [] {
    lab::RwLock rw;
    lab::Shared<int> v{0};
    lab::Thread w([&] {
      lab::WriterLock l(rw);
      v.write(v.read() + 1);
    });
    lab::Thread r1([&] {
      lab::ReaderLock l(rw);
      (void)v.read();
    });
    lab::Thread r2([&] {
      lab::ReaderLock l(rw);
      (void)v.read();
    });
    w.join();
    r1.join();
    r2.join();
  });
}

// ---- replay and determinism ----

void RacyAssert() {
  lab::Atomic<int> x{0};
  lab::Thread a([&] { x.store(x.load() + 1); });
  lab::Thread b([&] { x.store(x.load() + 1); });
  int extra = static_cast<int>(lab::random(3));
  x.fetch_add(extra);
  a.join();
  b.join();
  LAB_ASSERT(x.load() == 2 + extra);
}

TEST(Replay, TokenReproducesTheIdenticalStepSequence) {
  auto r = lab::Explore({.iterations = 500, .quiet = true}, RacyAssert);
  ASSERT_FALSE(r.clean());
  const lab::Report& f = r.findings.front();
  auto again = lab::Replay(f.token, RacyAssert, {.quiet = true});
  ASSERT_EQ(again.findings.size(), 1u) << again.Text();
  const lab::Report& g = again.findings.front();
  EXPECT_EQ(g.kind, f.kind);
  ASSERT_EQ(g.schedule.size(), f.schedule.size());
  for (std::size_t i = 0; i < f.schedule.size(); ++i) {
    EXPECT_EQ(g.schedule[i].thread, f.schedule[i].thread) << i;
    EXPECT_EQ(g.schedule[i].op, f.schedule[i].op) << i;
    EXPECT_EQ(g.schedule[i].where, f.schedule[i].where) << i;
    EXPECT_EQ(g.schedule[i].value, f.schedule[i].value) << i;
  }
  EXPECT_NE(g.determinism.find("identical"), std::string::npos) << g.determinism;
}

TEST(Replay, SameSeedSameTrace) {
  auto a = lab::Explore({.iterations = 50, .seed = 7, .stop_at_first_finding = false, .quiet = true}, RacyAssert);
  auto b = lab::Explore({.iterations = 50, .seed = 7, .stop_at_first_finding = false, .quiet = true}, RacyAssert);
  EXPECT_EQ(a.steps, b.steps);
  ASSERT_EQ(a.findings.size(), b.findings.size());
  for (std::size_t i = 0; i < a.findings.size(); ++i) EXPECT_EQ(a.findings[i].token, b.findings[i].token);
  auto c = lab::Explore({.iterations = 50, .seed = 8, .stop_at_first_finding = false, .quiet = true}, RacyAssert);
  EXPECT_NE(a.steps + a.findings.size() * 1000003, c.steps + c.findings.size() * 1000003);
}

TEST(Replay, UncontrolledNondeterminismIsNamed) {
  static int runs = 0;
  std::string d = lab::CheckDeterminism({}, [] {
    lab::Atomic<int> x{0};
    if (++runs % 2 == 0) x.store(1);   // differs between the two runs
    lab::yield_point();
  }, {});
  EXPECT_NE(d.find("diverged at step"), std::string::npos) << d;
}

TEST(Replay, BadTokenIsRejected) {
  auto r = lab::Replay("lab1.random.1.AA.00000000", [] {}, {.quiet = true});
  EXPECT_EQ(r.executions, 0u);
}

// ---- DFS: exactly C(2k, k) interleavings of two threads of k steps ----

TEST(Dfs, TwoThreadsOfKStepsGiveBinomial2kK) {
  for (int k = 1; k <= 5; ++k) {
    auto r = lab::Explore({.strategy = lab::Dfs{}, .iterations = 1000000, .quiet = true}, [k] {
      lab::Thread t([k] {
        for (int i = 0; i < k; ++i) lab::yield_point();
      });
      for (int i = 0; i < k; ++i) lab::yield_point();
      t.join();
    });
    double expected = std::round(std::tgamma(2 * k + 1) / (std::tgamma(k + 1) * std::tgamma(k + 1)));
    EXPECT_TRUE(r.exhausted) << k;
    EXPECT_EQ(r.executions, static_cast<std::uint64_t>(expected)) << "k=" << k;
  }
}

TEST(Dfs, PreemptionBoundPrunes) {
  auto body = [] {
    lab::Thread t([] {
      for (int i = 0; i < 4; ++i) lab::yield_point();
    });
    for (int i = 0; i < 4; ++i) lab::yield_point();
    t.join();
  };
  auto full = lab::Explore({.strategy = lab::Dfs{}, .iterations = 1000000, .quiet = true}, body);
  auto bounded = lab::Explore({.strategy = lab::Dfs{.max_preemptions = 1}, .iterations = 1000000, .quiet = true}, body);
  EXPECT_TRUE(bounded.exhausted);
  EXPECT_LT(bounded.executions, full.executions);
  EXPECT_GT(bounded.executions, 1u);
}

}  // namespace

namespace {

TEST(Report, TextJsonAndTraceOfAFinding) {
  auto r = lab::Explore({.iterations = 100, .quiet = true}, [] { Counter(false); });
  ASSERT_FALSE(r.clean());
  const lab::Report& f = r.findings.front();
  auto j = lab::ToJson(f);
  EXPECT_EQ(j.begin().key(), "kind");
  EXPECT_EQ(j["kind"], "data-race");
  EXPECT_EQ(j["schedule"].size(), f.schedule.size());
  auto trace = nlohmann::json::parse(lab::ToTraceJson(f));
  int flows = 0, slices = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "s" || e["ph"] == "f") ++flows;
    if (e["ph"] == "X") ++slices;
  }
  EXPECT_EQ(flows, 2);   // one arrow: the race pair
  EXPECT_EQ(slices, static_cast<int>(f.schedule.size()));
  std::string text = lab::RenderText(f);
  EXPECT_NE(text.find("What this means"), std::string::npos);
  EXPECT_NE(text.find(f.token), std::string::npos);
  auto decoded = lab::DecodeToken(f.token);
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->choices, f.choices);
}

}  // namespace
