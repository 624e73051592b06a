// Planted bug: two threads take the same two mutexes in opposite orders (ABBA deadlock).
// IPCLAB_FIXED selects the correct twin (both take a, then b).
#include <cstdio>
#include <mutex>
#include <thread>

namespace {
std::mutex a, b;
int total = 0;

void AThenB() {
  std::lock_guard<std::mutex> la(a);
  std::lock_guard<std::mutex> lb(b);
  ++total;
}

void BThenA() {
#ifdef IPCLAB_FIXED
  std::lock_guard<std::mutex> la(a);
  std::lock_guard<std::mutex> lb(b);
#else
  std::lock_guard<std::mutex> lb(b);
  std::lock_guard<std::mutex> la(a);
#endif
  ++total;
}
}  // namespace

int main() {
  std::thread t1(AThenB), t2(BThenA);
  t1.join();
  t2.join();
  std::printf("total %d\n", total);
  return total == 2 ? 0 : 1;
}
