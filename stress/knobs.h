// stress/knobs.h: how long, with which seed and on which shard a stress run goes.
//
// Inside `bazel test` runs are short and seeded so they are reproducible; campaigns raise them:
//   IPCLAB_STRESS_SECONDS  duration of the run (default: the target's short default)
//   IPCLAB_STRESS_SEED     base seed (default 1); shard i of N runs with seed + i
//   TEST_TOTAL_SHARDS, TEST_SHARD_INDEX, TEST_SHARD_STATUS_FILE  Bazel's sharding protocol
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace stress {

struct Knobs {
  std::chrono::milliseconds duration;
  uint64_t seed = 1;
  int shard = 0;
  int shards = 1;

  // "IPCLAB_STRESS_SEED=5 IPCLAB_STRESS_SECONDS=2 <test>": the command that reruns this shard.
  std::string RerunHint(const std::string& target) const;
};

// Reads the environment (and acknowledges Bazel's sharding protocol). Bad values are a usage error:
// the message names the variable and what is valid, and the caller should fail.
Knobs ReadKnobs(std::chrono::milliseconds default_duration, std::string* error);

}  // namespace stress
