// Reference solution of exercise lost_update (teachers: remove it from the copy you hand out).
#include "problems/exercises/lost_update.h"

namespace exercises::lost_update {
namespace {

class LockedCounter final : public Counter {
 public:
  void Increment() override {
    lab::MutexLock lock(mutex_);   // the read and the write are one critical section
    value_.write(value_.read() + 1);
  }
  long Value() override {
    lab::MutexLock lock(mutex_);
    return value_.read();
  }

 private:
  lab::Mutex mutex_{"counter.mutex"};
  lab::Shared<long> value_ LAB_GUARDED_BY(mutex_){0, "value"};
};

}  // namespace

std::unique_ptr<Counter> MakeCounter() { return std::make_unique<LockedCounter>(); }

}  // namespace exercises::lost_update
