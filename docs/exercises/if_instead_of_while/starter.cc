// Exercise if_instead_of_while: a bounded buffer for a producer and two consumers (README.md).
// Grade it with: tools/ipclab check if_instead_of_while docs/exercises/if_instead_of_while/starter.cc
#include <array>

#include "problems/exercises/if_instead_of_while.h"

namespace exercises::if_instead_of_while {
namespace {

class MonitorBuffer final : public BoundedBuffer {
 public:
  void Put(int item) override {
    lab::MutexLock lock(mutex_);
    if (count_.read() == kCapacity) not_full_.wait(lock);   // full: wait for a Take
    slots_[(head_.read() + count_.read()) % kCapacity].write(item);
    count_.write(count_.read() + 1);
    not_empty_.notify_one();
  }
  int Take() override {
    lab::MutexLock lock(mutex_);
    if (count_.read() == 0) not_empty_.wait(lock);          // empty: wait for a Put
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
