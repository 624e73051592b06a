#include "stress/targets.h"

namespace stress {

std::uint64_t Checksum(const void* data, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

std::string TestTargetName(const std::string& target) {
  std::string out = target;
  for (char& ch : out) {
    if (ch == '/') ch = '_';
  }
  return out + "_test";
}

const std::vector<Target>& AllTargets() {
  static const std::vector<Target> targets = [] {
    std::vector<Target> t;
    AddRingTargets(t);
    AddSyncTargets(t);
    AddIoTargets(t);
    AddSocketTargets(t);
    AddProblemTargets(t);
    return t;
  }();
  return targets;
}

const Target* FindTarget(const std::string& name) {
  for (const auto& t : AllTargets()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

RunReport RunTarget(const Target& target, std::uint64_t seed, std::chrono::milliseconds duration,
                    const std::string& rerun, bool progress, bool judge_starvation) {
  ChaosConfig config;
  config.seed = seed;
  config.duration = duration;
  config.rerun = rerun;
  config.progress = progress;
  if (target.configure) target.configure(config);
  if (!judge_starvation) config.min_share = config.min_role_jain = 0;
  Chaos chaos(config);
  return target.run(chaos);
}

}  // namespace stress
