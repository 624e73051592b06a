#include "stress/metrics.h"

#include <vector>

#include <gtest/gtest.h>

namespace stress {
namespace {

TEST(Metrics, JainIndexIsOneWhenFairAndOneOverNWhenOneTakesAll) {
  std::vector<double> fair = {5, 5, 5, 5};
  EXPECT_DOUBLE_EQ(JainIndex(fair), 1.0);
  std::vector<double> hog = {10, 0, 0, 0};
  EXPECT_DOUBLE_EQ(JainIndex(hog), 0.25);
  std::vector<double> half = {1, 3};
  EXPECT_DOUBLE_EQ(JainIndex(half), 16.0 / (2 * 10));
}

TEST(Metrics, PercentilesAreBucketUpperEdges) {
  std::vector<std::uint64_t> hist(kWaitBuckets);
  for (std::uint64_t ns : {1u, 3u, 3u, 1000u}) hist[WaitBucket(ns)]++;
  EXPECT_EQ(Percentile(hist, 0.5), 3u);      // bucket [2,4)
  EXPECT_EQ(Percentile(hist, 1.0), 1023u);   // bucket [512,1024)
  EXPECT_EQ(Percentile(std::vector<std::uint64_t>(kWaitBuckets), 0.5), 0u);
}

TEST(Metrics, StarvedNamesParticipantsBelowTheBound) {
  std::vector<double> ops = {100, 100, 1, 99};
  EXPECT_EQ(Starved(ops, 0.1), std::vector<std::size_t>{2});
  EXPECT_TRUE(Starved(ops, 0).empty());
}

}  // namespace
}  // namespace stress
