#include "problems/master_worker/master_worker.h"

#include <array>
#include <atomic>
#include <chrono>

#include "lab/sync/sync.h"

namespace problems {
namespace {

constexpr int kItems = 3;
constexpr std::chrono::microseconds kPollInterval{100};

// The segment's payload: the work and, written back by the worker, its result.
struct Segment {
  std::array<lab::Shared<int>, kItems> work{lab::Shared<int>(0, "work[0]"),
                                           lab::Shared<int>(0, "work[1]"),
                                           lab::Shared<int>(0, "work[2]")};
  lab::Shared<int> result{0, "result"};
};

void Produce(Segment& s) {
  for (int i = 0; i < kItems; ++i) s.work[i].write(i + 1);
}

void Consume(Segment& s) {
  int sum = 0;
  for (int i = 0; i < kItems; ++i) sum += s.work[i].read();
  LAB_ASSERT_MSG(sum == kItems * (kItems + 1) / 2, "the worker saw half-written work");
  s.result.write(sum);
}

void PlainFlag() {
  Segment segment;
  lab::Shared<bool> ready{false, "ready"};
  lab::Thread worker([&] {
    while (!ready.read()) lab::sleep_for(kPollInterval);  // BUG: a plain, unordered flag
    Consume(segment);
  });
  Produce(segment);
  ready.write(true);
  worker.join();
}

void AtomicFlag(std::memory_order store_order, std::memory_order load_order) {
  Segment segment;
  lab::Atomic<bool> ready{false, "ready"};
  lab::Thread worker([&] {
    while (!ready.load(load_order)) lab::sleep_for(kPollInterval);
    Consume(segment);
  });
  Produce(segment);
  ready.store(true, store_order);
  worker.join();
}

}  // namespace

void RegisterMasterWorker(Catalogue& catalogue) {
  const std::string doc = "docs/problems/master_worker.md";
  const Exploration budget = {.strategy = "pct", .iterations = 100, .depth = 2};
  catalogue.Add({
      .name = "master_worker/plain_flag",
      .expected = "data-race",
      .description = "worker polls a plain bool `ready` the master sets after writing the work",
      .explanation =
          "A plain variable written by one thread and read by another without synchronization is "
          "a data race: undefined behaviour in C++. In practice the compiler may keep the flag in "
          "a register (the loop never ends) or the CPU may make the flag visible before the "
          "work. Fix: std::atomic<bool> with release/acquire, or a semaphore.",
      .doc = doc,
      .exploration = budget,
      .body = PlainFlag,
  });
  catalogue.Add({
      .name = "master_worker/relaxed_flag",
      .expected = "data-race",
      .description = "the flag is atomic but relaxed: it orders nothing else",
      .explanation =
          "memory_order_relaxed makes the flag itself race-free but creates no happens-before "
          "edge: seeing `ready == true` says nothing about the work written before it. Fix: "
          "store with release, load with acquire.",
      .doc = doc,
      .exploration = budget,
      .body = [] { AtomicFlag(std::memory_order_relaxed, std::memory_order_relaxed); },
  });
  catalogue.Add({
      .name = "master_worker/release_acquire",
      .expected = "clean",
      .description = "ready.store(true, release) / ready.load(acquire)",
      .explanation =
          "A release store synchronizes with the acquire load that reads it: everything the "
          "master wrote before the store is visible to the worker after the load.",
      .doc = doc,
      .exploration = {.strategy = "dfs"},  // 5 interleavings: all of them
      .body = [] { AtomicFlag(std::memory_order_release, std::memory_order_acquire); },
  });
}

}  // namespace problems
