// Exercise check_then_act: never overdraw the account (see README.md).
// Grade it with: tools/ipclab check check_then_act docs/exercises/check_then_act/starter.cc
#include "problems/exercises/check_then_act.h"

namespace exercises::check_then_act {
namespace {

class AtomicAccount final : public Account {
 public:
  explicit AtomicAccount(int initial) : balance_(initial, "balance") {}

  bool Withdraw(int amount) override {
    if (balance_.load() >= amount) {   // every access is atomic...
      balance_.fetch_sub(amount);      // ...so what could go wrong?
      return true;
    }
    return false;
  }
  int Balance() override { return balance_.load(); }

 private:
  lab::Atomic<int> balance_;
};

}  // namespace

std::unique_ptr<Account> MakeAccount(int initial) {
  return std::make_unique<AtomicAccount>(initial);
}

}  // namespace exercises::check_then_act
