#include "problems/sleeping_barber/sleeping_barber.h"

#include <array>
#include <chrono>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

using std::chrono::microseconds;

constexpr int kChairs = 1;
constexpr int kCustomers = 3;
constexpr microseconds kArrivalGap{1500};  // customer i arrives at i * 1.5 ms
constexpr microseconds kCutTime{1000};

// ---- semaphores (the textbook solution) ----
void Semaphores() {
  lab::Semaphore customers(0, "customers");        // waiting customers (the barber sleeps on it)
  lab::Semaphore barber_ready(0, "barber_ready");  // the barber calls the next one to the chair
  lab::Semaphore cut_done(0, "cut_done");          // the haircut is over
  lab::Semaphore mutex(1, "mutex");                // guards waiting, turned_away
  lab::Shared<int> waiting{0, "waiting"}, turned_away{0, "turned_away"}, served{0, "served"};
  std::array<lab::Shared<int>, kCustomers> got_cut{};

  lab::Thread barber([&] {
    for (;;) {
      customers.acquire();  // sleeps until a customer (or closing time) wakes it
      mutex.acquire();
      if (waiting.read() == 0) {  // woken with nobody waiting: the shop closes
        mutex.release();
        return;
      }
      waiting.write(waiting.read() - 1);
      barber_ready.release();
      mutex.release();
      lab::sleep_for(kCutTime);
      served.write(served.read() + 1);
      cut_done.release();
    }
  });
  std::vector<lab::Thread> people;
  for (int i = 0; i < kCustomers; ++i) {
    people.push_back(lab::Thread([&, i] {
      lab::sleep_for(kArrivalGap * i);
      mutex.acquire();
      if (waiting.read() == kChairs) {
        turned_away.write(turned_away.read() + 1);
        mutex.release();
        return;
      }
      waiting.write(waiting.read() + 1);
      customers.release();
      mutex.release();
      barber_ready.acquire();
      cut_done.acquire();
      got_cut[i].write(got_cut[i].read() + 1);
    }));
  }
  for (lab::Thread& p : people) p.join();
  customers.release();  // closing time: wake the barber with nobody waiting
  barber.join();
  int cut = 0;
  for (auto& g : got_cut) {
    LAB_ASSERT_MSG(g.read() <= 1, "a customer got two haircuts");
    cut += g.read();
  }
  LAB_ASSERT_MSG(cut == served.read(), "haircuts given and received differ");
  LAB_ASSERT_MSG(cut + turned_away.read() == kCustomers, "a customer neither got a haircut nor left");
}

// ---- monitors: correct, and the barber who looks before he sleeps ----
void Monitor(bool split_check) {
  lab::Mutex m{"shop"};
  lab::CondVar bell{"bell"};  // a customer arrived, or the shop closes
  lab::CondVar done{"done"};  // a haircut finished
  lab::Shared<int> waiting{0, "waiting"}, tickets{0, "tickets"}, served{0, "served"},
      turned_away{0, "turned_away"};
  lab::Shared<bool> closing{false, "closing"};

  lab::Thread barber([&] {
    m.lock();
    for (;;) {
      if (split_check) {
        const bool nobody = waiting.read() == 0 && !closing.read();
        m.unlock();
        // BUG: between looking at the room and falling asleep the mutex is free; a customer
        // who sits down and rings now rings for nobody.
        m.lock();
        if (nobody) bell.wait(m);
        if (waiting.read() == 0 && !closing.read()) continue;
      } else {
        while (waiting.read() == 0 && !closing.read()) bell.wait(m);
      }
      if (waiting.read() == 0) break;  // closing, and nobody left
      waiting.write(waiting.read() - 1);
      m.unlock();
      lab::sleep_for(kCutTime);
      m.lock();
      served.write(served.read() + 1);
      done.notify_all();
    }
    m.unlock();
  });
  std::vector<lab::Thread> people;
  for (int i = 0; i < kCustomers; ++i) {
    people.push_back(lab::Thread([&, i] {
      lab::sleep_for(kArrivalGap * i);
      m.lock();
      if (waiting.read() == kChairs) {
        turned_away.write(turned_away.read() + 1);
        m.unlock();
        return;
      }
      const int ticket = tickets.read();  // served in arrival order
      tickets.write(ticket + 1);
      waiting.write(waiting.read() + 1);
      bell.notify_one();
      while (served.read() <= ticket) done.wait(m);
      m.unlock();
    }));
  }
  for (lab::Thread& p : people) p.join();
  m.lock();
  closing.write(true);
  bell.notify_one();
  m.unlock();
  barber.join();
  LAB_ASSERT_MSG(served.read() + turned_away.read() == kCustomers,
             "a customer neither got a haircut nor left");
}

}  // namespace

void RegisterSleepingBarber(Catalogue& catalogue) {
  const std::string doc = "docs/problems/sleeping_barber.md";
  const Exploration budget = {.strategy = "pct", .iterations = 1000, .depth = 3};
  catalogue.Add({
      .name = "sleeping_barber/semaphores",
      .expected = "clean",
      .description = "textbook semaphores: customers, barber_ready, cut_done and a mutex",
      .explanation =
          "A customer counts himself in and posts `customers` under the mutex, so the barber's "
          "sleep on `customers` cannot miss him: a semaphore remembers a post nobody waited for.",
      .doc = doc,
      .exploration = budget,
      .body = Semaphores,
  });
  catalogue.Add({
      .name = "sleeping_barber/monitor",
      .expected = "clean",
      .description = "a monitor: the barber re-checks the room in a `while` under the mutex",
      .explanation =
          "Checking the room and starting to wait happen atomically (wait releases the mutex only "
          "once the barber is already waiting), so a customer's ring cannot fall in between.",
      .doc = doc,
      .exploration = budget,
      .body = [] { Monitor(/*split_check=*/false); },
  });
  catalogue.Add({
      .name = "sleeping_barber/lost_wakeup",
      .expected = "lost-wakeup",
      .description = "the barber looks at the room, unlocks, relocks and sleeps: a ring is lost",
      .explanation =
          "A condition variable has no memory: a notify with nobody waiting is gone. The barber "
          "saw an empty room, released the mutex, and a customer sat down and rang before the "
          "barber began waiting; both now wait for each other. Fix: test and wait under one "
          "hold of the mutex, `while (waiting == 0) bell.wait(m);` (or use a semaphore).",
      .doc = doc,
      .exploration = budget,
      .body = [] { Monitor(/*split_check=*/true); },
  });
}

}  // namespace problems
