#include "stress/metrics.h"

#include <bit>

namespace stress {

std::size_t WaitBucket(std::uint64_t ns) {
  if (ns == 0) return 0;
  std::size_t b = static_cast<std::size_t>(63 - std::countl_zero(ns));
  return b < kWaitBuckets ? b : kWaitBuckets - 1;
}

std::uint64_t Percentile(std::span<const std::uint64_t> histogram, double q) {
  std::uint64_t total = 0;
  for (auto c : histogram) total += c;
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < histogram.size(); ++b) {
    seen += histogram[b];
    if (seen >= rank) return (std::uint64_t{2} << b) - 1;
  }
  return (std::uint64_t{2} << (histogram.size() - 1)) - 1;
}

double JainIndex(std::span<const double> x) {
  double sum = 0, sq = 0;
  for (double v : x) {
    sum += v;
    sq += v * v;
  }
  if (x.empty() || sq == 0) return 1.0;
  return sum * sum / (static_cast<double>(x.size()) * sq);
}

std::vector<std::size_t> Starved(std::span<const double> x, double min_share) {
  std::vector<std::size_t> out;
  if (x.empty() || min_share <= 0) return out;
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] < min_share * mean) out.push_back(i);
  }
  return out;
}

}  // namespace stress
