// Reference solution of exercise bank_transfer (teachers: remove it from the copy you hand out).
#include <algorithm>
#include <array>

#include "problems/exercises/bank_transfer.h"

namespace exercises::bank_transfer {
namespace {

struct Account {
  lab::Mutex mutex;
  lab::Shared<int> balance{100, "balance"};   // guarded by mutex
};

class OrderedLocksBank final : public Bank {
 public:
  void Transfer(int from, int to, int amount) override {
    // Every thread takes the locks in one global order (lower account first), so no two threads
    // can each hold one and wait for the other's: the AB-BA cycle cannot close.
    Account& first = accounts_[std::min(from, to)];
    Account& second = accounts_[std::max(from, to)];
    lab::MutexLock lock_first(first.mutex);
    lab::MutexLock lock_second(second.mutex);
    Account& a = accounts_[from];
    Account& b = accounts_[to];
    a.balance.write(a.balance.read() - amount);
    b.balance.write(b.balance.read() + amount);
  }
  int Total() override {
    lab::MutexLock lock0(accounts_[0].mutex);
    lab::MutexLock lock1(accounts_[1].mutex);
    return accounts_[0].balance.read() + accounts_[1].balance.read();
  }

 private:
  std::array<Account, kAccounts> accounts_;
};

}  // namespace

std::unique_ptr<Bank> MakeBank() { return std::make_unique<OrderedLocksBank>(); }

}  // namespace exercises::bank_transfer
