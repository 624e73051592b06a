#include "stress/stall.h"

#include <algorithm>

#include <fmt/format.h>

namespace stress {

std::chrono::nanoseconds EffectiveLimit(std::chrono::nanoseconds base,
                                        std::optional<std::chrono::nanoseconds> denied, LoadAverage load) {
  if (denied) return base + std::clamp(*denied, std::chrono::nanoseconds(0), (kMaxStretch - 1) * base);
  double per_cpu = load.one_minute / static_cast<double>(std::max(1L, load.cpus));
  per_cpu = std::clamp(per_cpu, 1.0, static_cast<double>(kMaxStretch));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * per_cpu));
}

namespace {
std::map<pid_t, std::uint64_t> AllRunDelays(const std::vector<pid_t>& pids) {
  std::map<pid_t, std::uint64_t> out;
  for (pid_t pid : pids) out.merge(RunDelays(pid));
  return out;
}
}  // namespace

void StallTimer::Restart(Clock::time_point now, const std::vector<pid_t>& pids, bool fresh) {
  start_ = now;
  limit_ = base_;
  denied_.reset();
  if (fresh || now - baseline_read_ >= std::chrono::milliseconds(100)) {
    baseline_ = AllRunDelays(pids);
    baseline_read_ = now;
  }
}

bool StallTimer::Expired(Clock::time_point now, const std::vector<pid_t>& pids) {
  if (now - start_ < base_) return false;
  if (now - sampled_ >= std::chrono::milliseconds(50)) {
    sampled_ = now;
    auto current = AllRunDelays(pids);
    if (current.empty()) {
      denied_.reset();  // no schedstat (or nobody alive): the load average stands in
    } else {
      std::uint64_t most = 0;
      for (auto [tid, delay] : current) {
        // A thread missing from the baseline started during the stall: all its delay counts (as
        // it does when a recycled tid's counter is below the baseline's).
        auto it = baseline_.find(tid);
        std::uint64_t since = it != baseline_.end() && it->second <= delay ? delay - it->second : delay;
        most = std::max(most, since);
      }
      denied_ = std::chrono::nanoseconds(most);
    }
    load_ = ReadLoadAverage();
    limit_ = EffectiveLimit(base_, denied_, load_);
  }
  return now - start_ >= limit_;
}

std::string StallTimer::Explain(Clock::time_point now) const {
  auto ms = [](std::chrono::nanoseconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::string how = denied_ ? fmt::format("{} ms + {} ms the participants waited for a CPU", ms(base_), ms(*denied_))
                            : fmt::format("{} ms scaled by load per CPU", ms(base_));
  std::string load = load_.one_minute >= 0
                         ? fmt::format("load average {:.2f} on {} CPUs", load_.one_minute, load_.cpus)
                         : std::string("load average unreadable");
  return fmt::format("{} ms (effective limit {} ms = {}; {})", ms(now - start_), ms(limit_), how, load);
}

}  // namespace stress
