#include "stress/knobs.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

namespace stress {
namespace {

bool ParseU64(const char* name, uint64_t* out, std::string* error) {
  const char* v = std::getenv(name);
  if (!v || !*v) return true;
  std::string_view s(v);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    *error = fmt::format("{}='{}' is not a whole number", name, s);
    return false;
  }
  return true;
}

}  // namespace

Knobs ReadKnobs(std::chrono::milliseconds default_duration, std::string* error) {
  Knobs k;
  k.duration = default_duration;
  uint64_t seconds = 0, shard = 0, shards = 1;
  if (!ParseU64("IPCLAB_STRESS_SEED", &k.seed, error)) return k;
  if (!ParseU64("IPCLAB_STRESS_SECONDS", &seconds, error)) return k;
  if (seconds > 0) k.duration = std::chrono::seconds(seconds);
  if (!ParseU64("TEST_SHARD_INDEX", &shard, error)) return k;
  if (!ParseU64("TEST_TOTAL_SHARDS", &shards, error)) return k;
  if (shards == 0 || shard >= shards) {
    *error = fmt::format("TEST_SHARD_INDEX={} must be below TEST_TOTAL_SHARDS={}", shard, shards);
    return k;
  }
  k.shard = static_cast<int>(shard);
  k.shards = static_cast<int>(shards);
  k.seed += shard;
  if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE"); status && *status) {
    std::ofstream(status).flush();  // tells Bazel this test understands sharding
  }
  return k;
}

std::string Knobs::RerunHint(const std::string& target) const {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
  return fmt::format("IPCLAB_STRESS_SEED={} IPCLAB_STRESS_SECONDS={} {}", seed, secs > 0 ? secs : 1,
                     target);
}

}  // namespace stress
