// A WRONG fix of exercise order_violation, planted for teaching: it sleeps "long enough" for the
// publisher to finish. On a quiet machine that hides the bug; under load (or a debugger, or a
// slow disk in Publish's caller) the publisher can be later than any sleep, and `ipclab check`
// grades with adversarial time, so it fails every time.
#include <chrono>

#include "problems/exercises/order_violation.h"

namespace exercises::order_violation {
namespace {

class SleepySlot final : public ConfigSlot {
 public:
  void Publish(Config c) override {
    port_.store(c.port);
    workers_.store(c.workers);
  }
  Config Get() override {
    lab::sleep_for(std::chrono::milliseconds(50));   // "the publisher needs 1 ms at most"
    return Config{.port = port_.load(), .workers = workers_.load()};
  }

 private:
  lab::Atomic<int> port_{0, "port"};
  lab::Atomic<int> workers_{0, "workers"};
};

}  // namespace

std::unique_ptr<ConfigSlot> MakeConfigSlot() { return std::make_unique<SleepySlot>(); }

}  // namespace exercises::order_violation
