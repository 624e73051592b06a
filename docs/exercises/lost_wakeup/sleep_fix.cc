// A WRONG fix of exercise lost_wakeup, planted for teaching: Signal() sleeps first, "so that the
// waiter is surely asleep when we notify". It makes the lost wakeup rarer, not impossible: the
// waiter can be descheduled between its check and its wait for longer than any sleep. `ipclab
// check` grades with adversarial time, so this fails every time.
#include <chrono>

#include "problems/exercises/lost_wakeup.h"

namespace exercises::lost_wakeup {
namespace {

class SleepyEvent final : public Event {
 public:
  void Wait() override {
    lab::MutexLock lock(mutex_);
    while (!signalled_.load()) cv_.wait(lock);
  }
  void Signal() override {
    lab::sleep_for(std::chrono::milliseconds(100));   // "give the waiter time to get to wait()"
    signalled_.store(true);
    cv_.notify_all();
  }

 private:
  lab::Atomic<bool> signalled_{false, "signalled"};
  lab::Mutex mutex_{"event.mutex"};
  lab::CondVar cv_{"event.cv"};
};

}  // namespace

std::unique_ptr<Event> MakeEvent() { return std::make_unique<SleepyEvent>(); }

}  // namespace exercises::lost_wakeup
