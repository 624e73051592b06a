#include "lab/schedfuzz/coverage.h"

#include <unordered_map>

#include "lab/strategy/strategy.h"

namespace lab::schedfuzz {
namespace {

enum FeatureTag : std::uint64_t { kSwitch = 1, kAcquisitionOrder = 2 };

std::uint64_t Combine(std::uint64_t h, std::uint64_t v) { return Mix64(h ^ (v + 0x9e3779b97f4a7c15ull)); }

std::uint64_t Site(const rt::Event& e) {
  std::uint64_t h = Combine(e.thread, static_cast<std::uint64_t>(e.op));
  h = Combine(h, e.object);
  return Combine(h, e.loc.line());
}

bool IsAcquisition(const rt::Event& e) {
  switch (e.op) {
    case rt::Op::kLock:
    case rt::Op::kTryLock:
    case rt::Op::kLockShared:
    case rt::Op::kTryLockShared:
    case rt::Op::kSemAcquire:
    case rt::Op::kSemTryAcquire:
      return e.value != 0;   // a failed try or a timeout acquired nothing
    default:
      return false;
  }
}

}  // namespace

std::vector<std::uint64_t> InterleavingFeatures(std::span<const rt::Event> events) {
  std::vector<std::uint64_t> out;
  std::unordered_map<ObjectId, ThreadId> last_acquirer;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const rt::Event& e = events[i];
    if (i > 0 && events[i - 1].thread != e.thread) {
      out.push_back(Combine(Combine(kSwitch, Site(events[i - 1])), Site(e)));
    }
    if (IsAcquisition(e)) {
      auto [it, first] = last_acquirer.try_emplace(e.object, kNoThread);
      out.push_back(Combine(Combine(Combine(kAcquisitionOrder, e.object), it->second), e.thread));
      it->second = e.thread;
      (void)first;
    }
  }
  return out;
}

void AddInterleavingCoverage(std::span<const rt::Event> events, std::span<std::uint8_t> counters) {
  if (counters.empty()) return;
  for (std::uint64_t f : InterleavingFeatures(events)) {
    std::uint8_t& c = counters[f % counters.size()];
    if (c != 255) ++c;
  }
}

}  // namespace lab::schedfuzz
