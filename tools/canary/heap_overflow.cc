// A deliberate heap overflow: under --config=asan, AddressSanitizer must report it; canary_test
// fails the suite if it does not. Outside ASan the program does not make the bad access.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tools/canary/built_with.h"

int main(int argc, char**) {
  const char* mode = ipclab::canary::BuiltWith();
  std::printf("built-with: %s\n", mode);
  std::fflush(stdout);
  if (std::strcmp(mode, "asan") != 0) return 0;  // only exercise the bug where ASan catches it
  char* p = static_cast<char*>(std::malloc(8));
  std::memset(p, 0, 8);
  volatile int past_end = 8 + argc - 1;  // not constant-folded
  p[past_end] = 1;                       // one byte past the allocation
  int r = p[0];
  std::free(p);
  return r;
}
