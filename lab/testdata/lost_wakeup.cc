// Planted bug: the waiter checks the flag without the lock and then waits; the signal can come
// between the check and the wait and is lost (the notifier does not hold the lock either).
// IPCLAB_FIXED: the flag is read and written under the mutex and the wait is in a loop.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace {
std::mutex m;
std::condition_variable cv;
volatile bool ready = false;

void Waiter() {
#ifdef IPCLAB_FIXED
  std::unique_lock<std::mutex> l(m);
  while (!ready) cv.wait(l);
#else
  if (!ready) {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l);
  }
#endif
  std::printf("woken\n");
}

void Notifier() {
#ifdef IPCLAB_FIXED
  std::lock_guard<std::mutex> l(m);
  ready = true;
  cv.notify_one();
#else
  ready = true;
  cv.notify_one();
#endif
}
}  // namespace

int main() {
  std::thread w(Waiter), n(Notifier);
  w.join();
  n.join();
  return 0;
}
