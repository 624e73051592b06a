#include "lab/schedfuzz/planted_programs.h"

#include <array>

#include "lab/sync/sync.h"

namespace lab::schedfuzz {

void OrderViolation(bool fixed) {
  lab::Atomic<int> flag{0};
  lab::Mutex m;
  lab::Thread t1([&] {
    if (fixed) {
      lab::MutexLock l(m);
      flag.store(1);
      lab::yield_point();
      flag.store(2);
    } else {
      flag.store(1);
      lab::yield_point();
      flag.store(2);
    }
  });
  lab::Thread t2([&] {
    for (int i = 0; i < kOrderViolationWork; ++i) lab::yield_point();
    lab::MutexLock l(m);
    LAB_ASSERT_MSG(flag.load() != 1, "T2 saw the half-initialised state");
  });
  t1.join();
  t2.join();
}

void AbBa(bool ordered) {
  lab::Mutex a("A"), b("B");
  lab::Thread t1([&] {
    lab::MutexLock la(a);
    lab::MutexLock lb(b);
  });
  lab::Thread t2([&] {
    if (ordered) {
      lab::MutexLock la(a);
      lab::MutexLock lb(b);
    } else {
      lab::MutexLock lb(b);
      lab::MutexLock la(a);
    }
  });
  t1.join();
  t2.join();
}

void Handoff(bool with_state) {
  lab::Mutex m;
  lab::CondVar cv("ready_cv");
  bool ready = false;
  lab::Thread waiter([&] {
    lab::MutexLock l(m);
    if (with_state) {
      while (!ready) cv.wait(m);
    } else {
      cv.wait(m);  // bug: no predicate, a notify sent before this wait is lost
    }
  });
  lab::Thread notifier([&] {
    lab::MutexLock l(m);
    ready = true;
    cv.notify_one();
  });
  waiter.join();
  notifier.join();
}

namespace {

constexpr std::array<PlantedInfo, 3> kPlanted = {{
    {Planted::kOrderViolation, "order_violation", "assertion-failure"},
    {Planted::kAbBa, "abba", "deadlock"},
    {Planted::kLostWakeup, "lost_wakeup", "lost-wakeup"},
}};

}  // namespace

std::span<const PlantedInfo> AllPlanted() { return kPlanted; }

std::optional<PlantedInfo> FindPlanted(std::string_view name) {
  for (const auto& p : kPlanted) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

void RunPlanted(Planted bug, bool fixed) {
  switch (bug) {
    case Planted::kOrderViolation: return OrderViolation(fixed);
    case Planted::kAbBa: return AbBa(fixed);
    case Planted::kLostWakeup: return Handoff(fixed);
  }
}

}  // namespace lab::schedfuzz
