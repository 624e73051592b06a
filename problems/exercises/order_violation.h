// problems/exercises/order_violation.h: the interface of exercise `order_violation` (docs/exercises/order_violation/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/order_violation.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check order_violation FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::order_violation {

// What one thread publishes and others read.
struct Config {
  int port = 0;
  int workers = 0;
};

// A slot a configuration is published into once. Publish(c) is called once, by one thread;
// Get() is called by other threads, possibly before Publish, and must return the published
// configuration (waiting for it if need be).
class ConfigSlot {
 public:
  virtual ~ConfigSlot() = default;
  virtual void Publish(Config c) = 0;
  virtual Config Get() = 0;
};

// Yours: an empty slot.
[[gnu::weak]] std::unique_ptr<ConfigSlot> MakeConfigSlot();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::order_violation
