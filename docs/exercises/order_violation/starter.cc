// Exercise order_violation: Get() must return the published configuration (see README.md).
// Grade it with: tools/ipclab check order_violation docs/exercises/order_violation/starter.cc
#include "problems/exercises/order_violation.h"

namespace exercises::order_violation {
namespace {

class Slot final : public ConfigSlot {
 public:
  void Publish(Config c) override {
    port_.store(c.port);
    workers_.store(c.workers);
  }
  // The publisher is started first, so surely it has published by now.
  Config Get() override { return Config{.port = port_.load(), .workers = workers_.load()}; }

 private:
  lab::Atomic<int> port_{0, "port"};
  lab::Atomic<int> workers_{0, "workers"};
};

}  // namespace

std::unique_ptr<ConfigSlot> MakeConfigSlot() { return std::make_unique<Slot>(); }

}  // namespace exercises::order_violation
