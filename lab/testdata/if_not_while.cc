// Planted bug: consumers wait with `if` instead of `while`; with two consumers and a broadcast,
// the second one wakes up to an empty queue and takes an item that is not there.
// IPCLAB_FIXED: `while`.
#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

namespace {
std::mutex m;
std::condition_variable nonempty;
std::deque<int> queue;
int consumed = 0;

void Consumer() {
  std::unique_lock<std::mutex> l(m);
#ifdef IPCLAB_FIXED
  while (queue.empty()) nonempty.wait(l);
#else
  if (queue.empty()) nonempty.wait(l);
#endif
  assert(!queue.empty() && "woke up to an empty queue");
  queue.pop_front();
  ++consumed;
}

void Producer() {
  for (int i = 0; i < 2; ++i) {
    std::lock_guard<std::mutex> l(m);
    queue.push_back(i);
    nonempty.notify_all();
  }
}
}  // namespace

int main() {
  std::thread c1(Consumer), c2(Consumer), p(Producer);
  c1.join();
  c2.join();
  p.join();
  std::printf("consumed %d\n", consumed);
  return consumed == 2 ? 0 : 1;
}
