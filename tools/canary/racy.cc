// A deliberately racy program: two threads increment a plain int. Under --config=tsan,
// ThreadSanitizer must report it; canary_test fails the suite if it does not.
#include <cstdio>
#include <thread>

#include "tools/canary/built_with.h"

int counter = 0;  // unsynchronised on purpose

int main() {
  std::printf("built-with: %s\n", ipclab::canary::BuiltWith());
  std::fflush(stdout);
  auto bump = [] {
    for (int i = 0; i < 1000; ++i) counter = counter + 1;
  };
  std::thread a(bump), b(bump);
  a.join();
  b.join();
  std::printf("counter=%d\n", counter);
  return 0;
}
