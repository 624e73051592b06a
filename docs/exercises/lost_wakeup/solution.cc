// Reference solution of exercise lost_wakeup (teachers: remove it from the copy you hand out).
#include "problems/exercises/lost_wakeup.h"

namespace exercises::lost_wakeup {
namespace {

class MonitorEvent final : public Event {
 public:
  void Wait() override {
    lab::MutexLock lock(mutex_);
    // The flag is read under the mutex Signal() sets it under, so no Signal() can fall between
    // this check and the wait; the loop handles spurious wakeups.
    while (!signalled_.read()) cv_.wait(lock);
  }
  void Signal() override {
    lab::MutexLock lock(mutex_);
    signalled_.write(true);
    cv_.notify_all();
  }

 private:
  lab::Mutex mutex_{"event.mutex"};
  lab::CondVar cv_{"event.cv"};
  lab::Shared<bool> signalled_ LAB_GUARDED_BY(mutex_){false, "signalled"};
};

}  // namespace

std::unique_ptr<Event> MakeEvent() { return std::make_unique<MonitorEvent>(); }

}  // namespace exercises::lost_wakeup
