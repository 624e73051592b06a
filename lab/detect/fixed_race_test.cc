#include "lab/detect/fixed_race.h"

#include <gtest/gtest.h>

#include <memory>

namespace lab {
namespace {

constexpr ObjectId kX = 100;
constexpr ObjectId kLock = 1;

std::unique_ptr<FixedRaceDetector> Fresh() { return std::make_unique<FixedRaceDetector>(); }

TEST(FixedRaceDetectorTest, UnlockedIncrementsRaceWithBothAccesses) {
  auto d = Fresh();
  d->OnSpawn(0, 1);
  d->OnSpawn(0, 2);
  EXPECT_FALSE(d->OnAccess(1, kX, false, 10));
  EXPECT_FALSE(d->OnAccess(1, kX, true, 11));
  auto race = d->OnAccess(2, kX, false, 20);
  ASSERT_TRUE(race);
  EXPECT_EQ(race->location, kX);
  EXPECT_EQ(race->earlier, (Access{1, true, 11}));
  EXPECT_EQ(race->later, (Access{2, false, 20}));
}

TEST(FixedRaceDetectorTest, CommonLockOrdersTheIncrements) {
  auto d = Fresh();
  d->OnSpawn(0, 1);
  d->OnSpawn(0, 2);
  for (ThreadId t : {1u, 2u, 1u}) {
    d->OnAcquire(t, kLock);
    EXPECT_FALSE(d->OnAccess(t, kX, false, t));
    EXPECT_FALSE(d->OnAccess(t, kX, true, t));
    d->OnRelease(t, kLock);
  }
}

TEST(FixedRaceDetectorTest, SpawnAndJoinOrder) {
  auto d = Fresh();
  EXPECT_FALSE(d->OnAccess(0, kX, true, 1));
  d->OnSpawn(0, 1);
  EXPECT_FALSE(d->OnAccess(1, kX, true, 2));  // after the parent's write
  d->OnJoin(0, 1);
  EXPECT_FALSE(d->OnAccess(0, kX, true, 3));  // after the child's
  d->OnSpawn(0, 2);
  EXPECT_FALSE(d->OnAccess(0, kX, true, 4));
  EXPECT_TRUE(d->OnAccess(2, kX, false, 5));  // the parent's write after spawning 2
}

TEST(FixedRaceDetectorTest, UnorderedReadsAreAllCheckedByTheNextWrite) {
  auto d = Fresh();
  d->OnSpawn(0, 1);
  d->OnSpawn(0, 2);
  d->OnSpawn(0, 3);
  EXPECT_FALSE(d->OnAccess(1, kX, false, 1));
  EXPECT_FALSE(d->OnAccess(2, kX, false, 2));
  d->OnRelease(1, kLock);
  d->OnAcquire(3, kLock);  // 3 is ordered after 1's read, not after 2's
  auto race = d->OnAccess(3, kX, true, 3);
  ASSERT_TRUE(race);
  EXPECT_EQ(race->earlier, (Access{2, false, 2}));
}

TEST(FixedRaceDetectorTest, TooManyThreadsStopsInsteadOfInventing) {
  auto d = Fresh();
  d->OnSpawn(0, 1);
  EXPECT_FALSE(d->OnAccess(1, kX, true, 1));
  d->OnSpawn(0, FixedRaceDetector::kThreads);
  EXPECT_EQ(d->stopped(), FixedRaceDetector::Stop::kTooManyThreads);
  EXPECT_FALSE(d->OnAccess(0, kX, true, 2));  // would race, but the detector has stopped
}

TEST(FixedRaceDetectorTest, FullLocationTableLeavesNewLocationsUnchecked) {
  auto d = Fresh();
  d->OnSpawn(0, 1);
  for (ObjectId l = 1; l <= FixedRaceDetector::kLocations; ++l) EXPECT_FALSE(d->OnAccess(0, l, true, 1));
  EXPECT_EQ(d->stats().locations, FixedRaceDetector::kLocations);
  EXPECT_FALSE(d->OnAccess(1, FixedRaceDetector::kLocations + 1, true, 2));
  EXPECT_EQ(d->stats().unchecked_accesses, 1u);
  EXPECT_TRUE(d->OnAccess(1, 1, true, 3));  // known locations are still checked
}

TEST(FixedRaceDetectorTest, FullSyncTableStops) {
  auto d = Fresh();
  for (ObjectId o = 1; o <= FixedRaceDetector::kSyncObjects; ++o) d->OnRelease(0, o);
  EXPECT_EQ(d->stopped(), FixedRaceDetector::Stop::kNo);
  d->OnRelease(0, FixedRaceDetector::kSyncObjects + 1);
  EXPECT_EQ(d->stopped(), FixedRaceDetector::Stop::kTooManySyncObjects);
}

}  // namespace
}  // namespace lab
