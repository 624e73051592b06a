#include "lab/report/shrink.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace lab {
namespace {

constexpr std::uint32_t kSmallChoices = 16;

}  // namespace

std::vector<std::uint32_t> ShrinkChoices(
    std::vector<std::uint32_t> failing,
    const std::function<bool(const std::vector<std::uint32_t>&)>& still_fails, int budget,
    ShrinkStats* stats) {
  ShrinkStats local;
  ShrinkStats& s = stats != nullptr ? *stats : local;
  s = ShrinkStats{};
  std::vector<std::uint32_t> current = std::move(failing);

  auto exhausted = [&] { return s.attempts >= budget; };
  // Runs one candidate; on success it becomes the current schedule.
  auto attempt = [&](std::vector<std::uint32_t>& candidate) {
    if (exhausted()) return false;
    ++s.attempts;
    if (!still_fails(candidate)) return false;
    ++s.accepted;
    current = std::move(candidate);
    return true;
  };

  bool progress = true;
  while (progress && !exhausted()) {
    progress = false;

    // 1. Chunk deletion.
    for (std::size_t chunk = current.size(); chunk >= 1 && !exhausted(); chunk /= 2) {
      for (std::size_t i = 0; i < current.size() && !exhausted();) {
        std::vector<std::uint32_t> candidate;
        candidate.reserve(current.size());
        const std::size_t end = std::min(current.size(), i + chunk);
        candidate.insert(candidate.end(), current.begin(), current.begin() + i);
        candidate.insert(candidate.end(), current.begin() + end, current.end());
        if (attempt(candidate)) {
          progress = true;  // retry the same position: the next chunk slid into it
        } else {
          i += chunk;
        }
      }
    }

    // 2. Lowering.
    for (std::size_t i = 0; i < current.size() && !exhausted(); ++i) {
      const std::uint32_t value = current[i];
      if (value == 0) continue;
      // Ascending small values first: a choice is taken modulo the number of alternatives, so
      // the smallest equivalent of a large choice is below that number (rarely above 16).
      std::vector<std::uint32_t> tried;
      for (std::uint32_t v = 0; v < std::min<std::uint32_t>(value, kSmallChoices); ++v) {
        tried.push_back(v);
      }
      for (std::uint32_t v : {value / 2, value - 1}) {
        if (v >= kSmallChoices && std::find(tried.begin(), tried.end(), v) == tried.end()) {
          tried.push_back(v);
        }
      }
      for (std::uint32_t v : tried) {
        if (exhausted()) break;
        std::vector<std::uint32_t> candidate = current;
        candidate[i] = v;
        if (attempt(candidate)) {
          progress = true;
          break;
        }
      }
    }

    // 3. Trailing zeros mean the same as no entries; still verified, as the runtime may disagree.
    std::size_t length = current.size();
    while (length > 0 && current[length - 1] == 0) --length;
    if (length < current.size()) {
      std::vector<std::uint32_t> candidate(current.begin(), current.begin() + length);
      attempt(candidate);  // no new progress: deletion would have found it anyway
    }
  }
  return current;
}

}  // namespace lab
