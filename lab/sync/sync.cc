#include <cstdio>
#include <cstdlib>
#include <random>

#include "lab/strategy/strategy.h"
#include "lab/sync/ops.h"

namespace lab {

std::chrono::nanoseconds now() {
  if (auto* ex = rt::Execution::Current()) return std::chrono::nanoseconds(ex->NowNs());
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

std::uint64_t random(std::uint64_t n, std::source_location loc) {
  if (auto* ex = rt::Execution::Current()) return ex->Random(n, loc);
  if (n <= 1) return 0;
  thread_local Rng rng(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32));
  return rng.Below(n);
}

namespace detail {
void AssertFailed(const char* expr, const std::string& message, std::source_location loc) {
  std::string text = std::string(expr) + (message.empty() ? "" : " (" + message + ")");
  if (auto* ex = rt::Execution::Current()) ex->AssertFailed(text, loc);
  std::fprintf(stderr, "LAB_ASSERT failed at %s:%u: %s\n", loc.file_name(),
               static_cast<unsigned>(loc.line()), text.c_str());
  std::abort();
}
}  // namespace detail

}  // namespace lab
