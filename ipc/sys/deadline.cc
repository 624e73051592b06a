#include "ipc/sys/deadline.h"

#include <climits>

namespace ipc::sys {
namespace {

constexpr long kNanos = 1'000'000'000;

timespec ToTimespec(std::chrono::nanoseconds ns) {
  if (ns.count() < 0) ns = std::chrono::nanoseconds(0);
  return timespec{static_cast<time_t>(ns.count() / kNanos), static_cast<long>(ns.count() % kNanos)};
}

timespec Now(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return ts;
}

timespec Add(timespec a, timespec b) {
  timespec r{a.tv_sec + b.tv_sec, a.tv_nsec + b.tv_nsec};
  if (r.tv_nsec >= kNanos) {
    r.tv_sec += 1;
    r.tv_nsec -= kNanos;
  }
  return r;
}

constexpr timespec kFarFuture{static_cast<time_t>(INT_MAX), 0};

}  // namespace

Deadline::Clock::duration Deadline::remaining() const {
  if (!at_) return Clock::duration::max();
  auto left = *at_ - Clock::now();
  return left.count() > 0 ? left : Clock::duration::zero();
}

timespec Deadline::relative_timespec() const {
  if (!at_) return kFarFuture;
  return ToTimespec(remaining());
}

timespec Deadline::monotonic_timespec() const {
  if (!at_) return kFarFuture;
  return ToTimespec(at_->time_since_epoch());  // steady_clock is CLOCK_MONOTONIC
}

timespec Deadline::realtime_timespec() const {
  if (!at_) return kFarFuture;
  return Add(Now(CLOCK_REALTIME), relative_timespec());
}

int Deadline::poll_timeout_ms() const {
  if (!at_) return -1;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining()).count();
  long long ms = (ns + 999'999) / 1'000'000;
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace ipc::sys
