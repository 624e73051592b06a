// problems/exercises/bank_transfer.h: the interface of exercise `bank_transfer` (docs/exercises/bank_transfer/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/bank_transfer.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check bank_transfer FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::bank_transfer {

// Accounts in the bank.
inline constexpr int kAccounts = 2;

// A bank of kAccounts accounts, each starting with 100. Transfer(from, to, amount) moves the
// money atomically (no thread ever sees it in neither or both accounts); transfers in opposite
// directions may run at the same time. Total() sums all accounts atomically.
class Bank {
 public:
  virtual ~Bank() = default;
  virtual void Transfer(int from, int to, int amount) = 0;
  virtual int Total() = 0;
};

// Yours: a bank with kAccounts accounts of 100 each.
[[gnu::weak]] std::unique_ptr<Bank> MakeBank();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::bank_transfer
