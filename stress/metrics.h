// stress/metrics.h: fairness and latency figures of a chaos run.
//
// Wait times are kept in a log2 histogram (bucket b holds waits in [2^b, 2^(b+1)) ns; bucket 0
// also holds 0), which processes update with one atomic add and which the driver reads without
// stopping anyone. Percentiles report the upper edge of the bucket that contains them, so they are
// exact to within a factor of two, which is what "is anyone starving" needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace stress {

inline constexpr std::size_t kWaitBuckets = 40;  // up to 2^40 ns (~18 minutes)

// The bucket a wait of `ns` nanoseconds goes to.
std::size_t WaitBucket(std::uint64_t ns);
// The `q` quantile (0 < q <= 1) of a histogram, in nanoseconds (bucket upper edge); 0 when empty.
std::uint64_t Percentile(std::span<const std::uint64_t> histogram, double q);

// Jain's fairness index of per-participant throughputs: (sum x)^2 / (n * sum x^2), 1 when all
// are equal, 1/n when one participant gets everything; 1 for an empty or all-zero input.
double JainIndex(std::span<const double> x);

// Indices of participants whose share is below `min_share` of the mean (0 disables the check).
std::vector<std::size_t> Starved(std::span<const double> x, double min_share);

}  // namespace stress
