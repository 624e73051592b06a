#include "problems/producer_consumer/producer_consumer.h"

#include <array>
#include <chrono>
#include <functional>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

constexpr int kCapacity = 2;           // slots in the buffer
constexpr int kItemsPerProducer = 2;

// The buffer's storage: a ring of slots and its indices. Each is a checked location
// (lab::Shared), so the lab sees every access and the race detector can order them.
struct Ring {
  static_assert(kCapacity == 2, "name every slot");
  std::array<lab::Shared<int>, kCapacity> slots{lab::Shared<int>(0, "slot[0]"),
                                                lab::Shared<int>(0, "slot[1]")};
  lab::Shared<int> head{0, "head"};
  lab::Shared<int> tail{0, "tail"};
  lab::Shared<int> count{0, "count"};

  void Put(int item) {
    LAB_ASSERT_MSG(count.read() < kCapacity, "put into a full buffer");
    const int t = tail.read();
    slots[t].write(item);
    tail.write((t + 1) % kCapacity);
    count.write(count.read() + 1);
  }
  int Take() {
    LAB_ASSERT_MSG(count.read() > 0, "take from an empty buffer");
    const int h = head.read();
    const int item = slots[h].read();
    head.write((h + 1) % kCapacity);
    count.write(count.read() - 1);
    return item;
  }
};

// What came out of the buffer, one flag per item: each item exactly once.
template <int kItems>
struct Ledger {
  std::array<lab::Shared<int>, kItems> seen{};
  void Consumed(int item) {
    LAB_ASSERT_MSG(item >= 0 && item < kItems, "consumed an item nobody produced");
    LAB_ASSERT_MSG(seen[item].read() == 0, "consumed an item twice");
    seen[item].write(1);
  }
  void CheckAllConsumed() {
    for (int i = 0; i < kItems; ++i) LAB_ASSERT_MSG(seen[i].read() == 1, "an item was lost");
  }
};

// Runs kProducers producers (kItemsPerProducer items each) and kConsumers consumers that share
// the items out evenly, then checks the ledger. With a `pace`, a producer makes each item in that
// much (virtual) time and consumer c arrives c * pace late, so consumers meet items as they come.
// (The protocol is taken as plain callables, not std::function: nothing on the heap is shared by
// the threads, so an execution the lab abandons mid-way unwinds without freeing what they used.)
template <int kProducers, int kConsumers, class Put, class Take>
void RunPipeline(const Put& put, const Take& take,
                 std::chrono::microseconds pace = std::chrono::microseconds(0)) {
  constexpr int kItems = kProducers * kItemsPerProducer;
  static_assert(kItems % kConsumers == 0);
  Ledger<kItems> ledger;
  std::vector<lab::Thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.push_back(lab::Thread([&put, p, pace] {
      for (int i = 0; i < kItemsPerProducer; ++i) {
        if (pace.count() > 0) lab::sleep_for(pace);
        put(p * kItemsPerProducer + i);
      }
    }));
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.push_back(lab::Thread([&take, &ledger, c, pace] {
      if (pace.count() > 0) lab::sleep_for(pace * c);
      for (int i = 0; i < kItems / kConsumers; ++i) ledger.Consumed(take());
    }));
  }
  for (lab::Thread& t : threads) t.join();
  ledger.CheckAllConsumed();
}

// ---- semaphores (Dijkstra): correct ----
void Semaphores() {
  Ring ring;
  lab::Semaphore empty(kCapacity, "empty");  // free slots
  lab::Semaphore full(0, "full");           // items in the buffer
  lab::Semaphore mutex(1, "mutex");          // guards ring's indices
  RunPipeline<2, 2>(
      [&](int item) {
        empty.acquire();
        mutex.acquire();
        ring.Put(item);
        mutex.release();
        full.release();
      },
      [&] {
        full.acquire();
        mutex.acquire();
        const int item = ring.Take();
        mutex.release();
        empty.release();
        return item;
      });
}

// ---- no_mutex: the indices are updated by two producers at once ----
void NoMutex() {
  Ring ring;
  lab::Semaphore empty(kCapacity, "empty");
  lab::Semaphore full(0, "full");
  RunPipeline<2, 2>(
      [&](int item) {
        empty.acquire();
        ring.Put(item);  // BUG: no mutex; another producer may be between load and store of tail
        full.release();
      },
      [&] {
        full.acquire();
        const int item = ring.Take();
        empty.release();
        return item;
      });
}

// ---- mutex_before_empty: the producer sleeps on `empty` while holding `mutex` ----
void MutexBeforeEmpty() {
  Ring ring;
  lab::Semaphore empty(kCapacity, "empty");
  lab::Semaphore full(0, "full");
  lab::Semaphore mutex(1, "mutex");
  RunPipeline<2, 2>(
      [&](int item) {
        mutex.acquire();  // BUG: taken before waiting for a free slot
        empty.acquire();  // buffer full: waits here holding `mutex`; no consumer can get in
        ring.Put(item);
        mutex.release();
        full.release();
      },
      [&] {
        full.acquire();
        mutex.acquire();
        const int item = ring.Take();
        mutex.release();
        empty.release();
        return item;
      });
}

// ---- monitors: one mutex, "not full" and "not empty" conditions ----
struct Monitor {
  lab::Mutex mutex{"mutex"};
  lab::CondVar not_full{"not_full"};
  lab::CondVar not_empty{"not_empty"};
  Ring ring;
};

void MonitorCorrect() {
  Monitor m;
  RunPipeline<2, 2>(
      [&](int item) {
        m.mutex.lock();
        while (m.ring.count.read() == kCapacity) m.not_full.wait(m.mutex);
        m.ring.Put(item);
        m.not_empty.notify_one();
        m.mutex.unlock();
      },
      [&] {
        m.mutex.lock();
        while (m.ring.count.read() == 0) m.not_empty.wait(m.mutex);
        const int item = m.ring.Take();
        m.not_full.notify_one();
        m.mutex.unlock();
        return item;
      });
}

// ---- if_instead_of_while: a woken consumer does not re-check the condition ----
void IfInsteadOfWhile() {
  Monitor m;
  RunPipeline<1, 2>(
      [&](int item) {
        m.mutex.lock();
        while (m.ring.count.read() == kCapacity) m.not_full.wait(m.mutex);
        m.ring.Put(item);
        m.not_empty.notify_one();
        m.mutex.unlock();
      },
      [&] {
        m.mutex.lock();
        // BUG: `if`, not `while`: between the notify and this thread relocking the mutex, the
        // other consumer can take the item; this one then takes from an empty buffer.
        if (m.ring.count.read() == 0) m.not_empty.wait(m.mutex);
        const int item = m.ring.Take();
        m.not_full.notify_one();
        m.mutex.unlock();
        return item;
      },
      std::chrono::microseconds(1000));
}

// ---- notify_before_state_change: the wakeup is sent before there is anything to see ----
void NotifyBeforeStateChange() {
  Monitor m;
  RunPipeline<1, 1>(
      [&](int item) {
        // BUG: notifies first, outside the lock; a consumer that checks the buffer after this
        // notify but before the put goes to sleep and never hears about this item.
        m.not_empty.notify_one();
        m.mutex.lock();
        while (m.ring.count.read() == kCapacity) m.not_full.wait(m.mutex);
        m.ring.Put(item);
        m.mutex.unlock();
      },
      [&] {
        m.mutex.lock();
        while (m.ring.count.read() == 0) m.not_empty.wait(m.mutex);
        const int item = m.ring.Take();
        m.not_full.notify_one();
        m.mutex.unlock();
        return item;
      });
}

}  // namespace

void RegisterProducerConsumer(Catalogue& catalogue) {
  const std::string doc = "docs/problems/producer_consumer.md";
  catalogue.Add({
      .name = "producer_consumer/semaphores",
      .expected = "clean",
      .description = "bounded buffer with semaphores empty, full and mutex (Dijkstra)",
      .explanation =
          "`empty` counts free slots and `full` counts items, so a producer waits for room and a "
          "consumer for an item without holding anything; `mutex` is taken only around the index "
          "updates, after the counting wait, so nobody sleeps while holding it.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 1000, .depth = 3},
      .body = Semaphores,
  });
  catalogue.Add({
      .name = "producer_consumer/monitor",
      .expected = "clean",
      .description = "bounded buffer as a monitor: one mutex, conditions not_full and not_empty",
      .explanation =
          "Each wait sits in a `while` loop that re-checks the buffer after waking, and every "
          "notify happens after the state change, under the mutex.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 1000, .depth = 3},
      .body = MonitorCorrect,
  });
  catalogue.Add({
      .name = "producer_consumer/no_mutex",
      .expected = "data-race",
      .description = "semaphores empty and full but no mutex: producers race on the ring's indices",
      .explanation =
          "The counting semaphores let two producers into Put() together when two slots are free, "
          "and a consumer in Take() at the same time; `count`, `tail` and the slots are read and "
          "written by several threads with nothing ordering them. Two producers that both read "
          "`tail` write the same slot, and one item is lost. Fix: take a mutex (a binary "
          "semaphore) around the updates, after `empty.acquire()`.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 200, .depth = 2},
      .body = NoMutex,
  });
  catalogue.Add({
      .name = "producer_consumer/mutex_before_empty",
      .expected = "deadlock",
      .description = "producer takes mutex, then waits on empty: deadlock when the buffer is full",
      .explanation =
          "With the buffer full, a producer holding `mutex` sleeps on `empty`; the only thread "
          "that could post `empty` is a consumer, which needs `mutex` first. Fix: wait on the "
          "counting semaphore first, then take the mutex.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 200, .depth = 3},
      .body = MutexBeforeEmpty,
  });
  catalogue.Add({
      .name = "producer_consumer/if_instead_of_while",
      .expected = "assertion-failure",
      .description = "consumer waits with `if`, not `while`: two consumers, one takes from empty",
      .explanation =
          "A notified consumer is only made runnable; before it relocks the mutex the other "
          "consumer may come in and take the item. Waking does not mean the condition still holds. "
          "Fix: `while (count == 0) not_empty.wait(mutex);`.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 300, .depth = 3},
      .body = IfInsteadOfWhile,
  });
  catalogue.Add({
      .name = "producer_consumer/notify_before_state_change",
      .expected = "lost-wakeup",
      // When the consumer already waits, the early notify wakes it, it sees the buffer still
      // empty and waits again: the same bug, but no notify went unheard, so the lab may call it
      // a deadlock (nobody left to wake the consumer).
      .also_accepted = {"deadlock"},
      .description = "producer notifies not_empty before putting the item: the consumer sleeps on",
      .explanation =
          "A notify wakes only threads already waiting, and says nothing about state that does "
          "not exist yet. The consumer checks the empty buffer, the producer notifies (nobody "
          "waits yet: lost) and then puts the item, the consumer starts waiting: nobody will "
          "notify again. Or the consumer already waits, the notify wakes it too early, it sees "
          "the buffer still empty and waits again, for ever. Fix: change the state, then notify, "
          "under the mutex.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 300, .depth = 3},
      .body = NotifyBeforeStateChange,
  });
}

}  // namespace problems
