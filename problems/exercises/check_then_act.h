// problems/exercises/check_then_act.h: the interface of exercise `check_then_act` (docs/exercises/check_then_act/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/check_then_act.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check check_then_act FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::check_then_act {

// A bank account. Withdraw(amount) takes the money and returns true only if the balance covers
// it; otherwise it changes nothing and returns false. The balance never goes below zero, and
// every successful withdrawal is taken off exactly once, whatever threads call it at once.
class Account {
 public:
  virtual ~Account() = default;
  virtual bool Withdraw(int amount) = 0;
  virtual int Balance() = 0;
};

// Yours: an account holding `initial`.
[[gnu::weak]] std::unique_ptr<Account> MakeAccount(int initial);

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::check_then_act
