// Reference solution of exercise order_violation (teachers: remove it from the copy you hand out).
#include "problems/exercises/order_violation.h"

namespace exercises::order_violation {
namespace {

class WaitingSlot final : public ConfigSlot {
 public:
  void Publish(Config c) override {
    lab::MutexLock lock(mutex_);
    port_.write(c.port);
    workers_.write(c.workers);
    published_.write(true);
    ready_.notify_all();   // every reader waiting for it
  }
  Config Get() override {
    lab::MutexLock lock(mutex_);
    while (!published_.read()) ready_.wait(lock);   // a loop: wakeups can be spurious
    return Config{.port = port_.read(), .workers = workers_.read()};
  }

 private:
  lab::Mutex mutex_{"slot.mutex"};
  lab::CondVar ready_{"slot.ready"};
  lab::Shared<bool> published_ LAB_GUARDED_BY(mutex_){false, "published"};
  lab::Shared<int> port_ LAB_GUARDED_BY(mutex_){0, "port"};
  lab::Shared<int> workers_ LAB_GUARDED_BY(mutex_){0, "workers"};
};

}  // namespace

std::unique_ptr<ConfigSlot> MakeConfigSlot() { return std::make_unique<WaitingSlot>(); }

}  // namespace exercises::order_violation
