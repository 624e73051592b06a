// Reference solution of exercise check_then_act (teachers: remove it from the copy you hand out).
#include "problems/exercises/check_then_act.h"

namespace exercises::check_then_act {
namespace {

class CasAccount final : public Account {
 public:
  explicit CasAccount(int initial) : balance_(initial, "balance") {}

  bool Withdraw(int amount) override {
    int seen = balance_.load();
    // The check and the act are one atomic step: the subtraction happens only if the balance is
    // still the one we checked; otherwise `seen` is refreshed and we check again.
    while (seen >= amount) {
      if (balance_.compare_exchange_weak(seen, seen - amount)) return true;
    }
    return false;
  }
  int Balance() override { return balance_.load(); }

 private:
  lab::Atomic<int> balance_;
};

}  // namespace

std::unique_ptr<Account> MakeAccount(int initial) { return std::make_unique<CasAccount>(initial); }

}  // namespace exercises::check_then_act
