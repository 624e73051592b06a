// Exercise bank_transfer: move money between accounts that each have a lock (see README.md).
// Grade it with: tools/ipclab check bank_transfer docs/exercises/bank_transfer/starter.cc
#include <array>

#include "problems/exercises/bank_transfer.h"

namespace exercises::bank_transfer {
namespace {

struct Account {
  lab::Mutex mutex;
  lab::Shared<int> balance{100, "balance"};   // guarded by mutex
};

class LockPerAccountBank final : public Bank {
 public:
  void Transfer(int from, int to, int amount) override {
    Account& a = accounts_[from];
    Account& b = accounts_[to];
    lab::MutexLock lock_from(a.mutex);   // the account the money leaves...
    lab::MutexLock lock_to(b.mutex);     // ...then the one it goes to
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

std::unique_ptr<Bank> MakeBank() { return std::make_unique<LockPerAccountBank>(); }

}  // namespace exercises::bank_transfer
