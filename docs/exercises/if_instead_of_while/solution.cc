// Reference solution of exercise if_instead_of_while (teachers: remove it from the copy you
// hand out). The waits are loops: a woken thread re-checks the condition, which another thread
// (or a spurious wakeup) may have made false again before it got the mutex back.
#include <array>

#include "problems/exercises/if_instead_of_while.h"

namespace exercises::if_instead_of_while {
namespace {

class MonitorBuffer final : public BoundedBuffer {
 public:
  void Put(int item) override {
    lab::MutexLock lock(mutex_);
    while (count_.read() == kCapacity) not_full_.wait(lock);   // re-check after every wakeup
    slots_[(head_.read() + count_.read()) % kCapacity].write(item);
    count_.write(count_.read() + 1);
    not_empty_.notify_one();
  }
  int Take() override {
    lab::MutexLock lock(mutex_);
    while (count_.read() == 0) not_empty_.wait(lock);          // another consumer may have been first
    const int item = slots_[head_.read()].read();
    head_.write((head_.read() + 1) % kCapacity);
    count_.write(count_.read() - 1);
    not_full_.notify_one();
    return item;
  }

 private:
  lab::Mutex mutex_{"buffer.mutex"};
  lab::CondVar not_full_{"not_full"};
  lab::CondVar not_empty_{"not_empty"};
  std::array<lab::Shared<int>, kCapacity> slots_ LAB_GUARDED_BY(mutex_){};
  lab::Shared<int> head_ LAB_GUARDED_BY(mutex_){0, "head"};
  lab::Shared<int> count_ LAB_GUARDED_BY(mutex_){0, "count"};
};

}  // namespace

std::unique_ptr<BoundedBuffer> MakeBuffer() { return std::make_unique<MonitorBuffer>(); }

}  // namespace exercises::if_instead_of_while
