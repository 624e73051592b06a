// Fuzzes the replay-token decoder: tokens arrive from environment variables, command lines and
// pasted bug reports, so any byte string must be refused with a message or decoded to a token
// that re-encodes to exactly the same string (the encoding is canonical).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lab/report/token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = lab::DecodeToken(text);
  if (!decoded) {
    if (decoded.error().empty()) {
      std::fprintf(stderr, "DecodeToken refused a token without saying why\n");
      std::abort();
    }
    return 0;
  }
  std::string again = lab::EncodeToken(*decoded);
  if (again != text) {
    std::fprintf(stderr, "accepted a non-canonical token: re-encodes to %s\n", again.c_str());
    std::abort();
  }
  auto twice = lab::DecodeToken(again);
  if (!twice || !(*twice == *decoded)) std::abort();
  return 0;
}
