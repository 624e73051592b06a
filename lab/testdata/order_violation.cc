// Planted bug: the consumer thread uses the configuration the main thread publishes, assuming
// it was published before the thread started; nothing orders them.
// IPCLAB_FIXED: the consumer waits on a condition variable until it is published.
#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace {
std::mutex m;
std::condition_variable published;
const char* config = nullptr;

void Consumer() {
  std::unique_lock<std::mutex> l(m);
#ifdef IPCLAB_FIXED
  while (config == nullptr) published.wait(l);
#endif
  assert(config != nullptr && "configuration used before it was published");
  std::printf("config %s\n", config);
}
}  // namespace

int main() {
  std::thread t(Consumer);
  {
    std::lock_guard<std::mutex> l(m);
    config = "ready";
  }
  published.notify_one();
  t.join();
  return 0;
}
