#include "problems/exercises/check_then_act.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::check_then_act {

bool Implemented() { return &MakeAccount != nullptr; }

void Harness() {
  constexpr int kInitial = 100;
  auto account = harness::Own(MakeAccount(kInitial));
  LAB_ASSERT_MSG(account != nullptr, "MakeAccount() returned null");
  std::array<lab::Atomic<int>, 2> withdrawn{};
  const std::array<int, 2> amount = {60, 50 + 10 * static_cast<int>(lab::random(2))};
  std::array<lab::Thread, 2> threads;
  for (int t = 0; t < 2; ++t) {
    threads[t] = lab::Thread([&, t] {
      harness::Uses uses(account.get());
      if (account->Withdraw(amount[t])) withdrawn[t].store(amount[t]);
    });
  }
  for (lab::Thread& t : threads) t.join();
  const int balance = account->Balance();
  LAB_ASSERT_MSG(balance >= 0, "the account is overdrawn: both withdrawals saw enough money");
  LAB_ASSERT_MSG(balance == kInitial - withdrawn[0].load() - withdrawn[1].load(),
                 "the balance does not match the withdrawals that succeeded");
  LAB_ASSERT_MSG(withdrawn[0].load() + withdrawn[1].load() > 0,
                 "both withdrawals were refused although the money was there for one");
}

}  // namespace exercises::check_then_act
