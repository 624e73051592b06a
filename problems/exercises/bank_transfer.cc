#include "problems/exercises/bank_transfer.h"
#include "problems/exercises/harness.h"

namespace exercises::bank_transfer {

bool Implemented() { return &MakeBank != nullptr; }

void Harness() {
  auto bank = harness::Own(MakeBank());
  LAB_ASSERT_MSG(bank != nullptr, "MakeBank() returned null");
  LAB_ASSERT_MSG(bank->Total() == 100 * kAccounts, "a new bank does not hold 100 per account");
  lab::Thread there([&] { harness::Uses uses(bank.get()); bank->Transfer(0, 1, 30); });
  lab::Thread back([&] { harness::Uses uses(bank.get()); bank->Transfer(1, 0, 20); });
  lab::Thread auditor([&] { harness::Uses uses(bank.get());
    LAB_ASSERT_MSG(bank->Total() == 100 * kAccounts,
                   "an audit during the transfers saw money created or destroyed");
  });
  there.join();
  back.join();
  auditor.join();
  LAB_ASSERT_MSG(bank->Total() == 100 * kAccounts, "money was created or destroyed");
}

}  // namespace exercises::bank_transfer
