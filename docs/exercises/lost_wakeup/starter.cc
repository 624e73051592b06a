// Exercise lost_wakeup: Wait() must return once Signal() has been called (see README.md).
// Grade it with: tools/ipclab check lost_wakeup docs/exercises/lost_wakeup/starter.cc
#include "problems/exercises/lost_wakeup.h"

namespace exercises::lost_wakeup {
namespace {

class FlagEvent final : public Event {
 public:
  void Wait() override {
    lab::MutexLock lock(mutex_);
    while (!signalled_.load()) cv_.wait(lock);   // sleep until Signal() wakes us
  }
  void Signal() override {
    signalled_.store(true);   // an atomic flag: no need for the mutex here?
    cv_.notify_all();
  }

 private:
  lab::Atomic<bool> signalled_{false, "signalled"};
  lab::Mutex mutex_{"event.mutex"};
  lab::CondVar cv_{"event.cv"};
};

}  // namespace

std::unique_ptr<Event> MakeEvent() { return std::make_unique<FlagEvent>(); }

}  // namespace exercises::lost_wakeup
