// Planted bug: check-then-act across two critical sections. Each withdrawer checks the balance
// under the lock, releases it, then withdraws under the lock again; two can both pass the check.
// IPCLAB_FIXED: check and withdraw in one critical section.
#include <cassert>
#include <cstdio>
#include <mutex>
#include <thread>

namespace {
std::mutex m;
int balance = 100;

void Withdraw(int amount) {
#ifdef IPCLAB_FIXED
  std::lock_guard<std::mutex> g(m);
  if (balance >= amount) balance -= amount;
#else
  bool enough;
  {
    std::lock_guard<std::mutex> g(m);
    enough = balance >= amount;
  }
  if (enough) {
    std::lock_guard<std::mutex> g(m);
    balance -= amount;
  }
#endif
}
}  // namespace

int main() {
  std::thread a(Withdraw, 80), b(Withdraw, 80);
  a.join();
  b.join();
  std::printf("balance %d\n", balance);
  assert(balance >= 0);
  return 0;
}
