#include "lab/detect/race.h"

#include <gtest/gtest.h>

namespace lab {
namespace {

constexpr ObjectId kX = 100;
constexpr ObjectId kY = 101;
constexpr ObjectId kLock = 1;
constexpr ObjectId kFlag = 2;

TEST(VectorClockTest, JoinCoversAndEpochs) {
  VectorClock a, b;
  a.Set(0, 3);
  b.Set(1, 2);
  EXPECT_FALSE(a.Covers(b));
  EXPECT_TRUE(a.Covers(Epoch{0, 3}));
  EXPECT_FALSE(a.Covers(Epoch{0, 4}));
  EXPECT_FALSE(a.Covers(Epoch{5, 1}));
  EXPECT_TRUE(a.Covers(Epoch{}));  // no epoch: nothing to order
  a.Join(b);
  EXPECT_TRUE(a.Covers(b));
  EXPECT_EQ(a.Get(0), 3u);
  EXPECT_EQ(a.Get(1), 2u);
  a.Tick(1);
  EXPECT_EQ(a.Get(1), 3u);
  VectorClock c;
  c.Set(0, 3);
  c.Set(1, 3);
  c.Set(7, 0);  // trailing zeros do not make clocks differ
  EXPECT_EQ(a, c);
}

// The planted bug: two threads increment a plain int without a lock (lost update).
TEST(RaceDetectorTest, PlantedLostUpdateIsCaughtWithBothAccesses) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(1, kX, /*is_write=*/false, 10));
  EXPECT_FALSE(d.OnAccess(2, kX, false, 11));  // read-read: fine
  auto race = d.OnAccess(1, kX, true, 12);
  ASSERT_TRUE(race.has_value());
  EXPECT_EQ(race->location, kX);
  EXPECT_EQ(race->earlier, (Access{2, false, 11}));
  EXPECT_EQ(race->later, (Access{1, true, 12}));
  auto second = d.OnAccess(2, kX, true, 13);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->earlier, (Access{1, true, 12}));  // write-write with T1's write
  EXPECT_EQ(d.stats().races, 2u);
}

// The correct twin: the same increments, each under one lock.
TEST(RaceDetectorTest, LockOrderedIncrementsAreQuiet) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  StepIndex step = 0;
  for (int round = 0; round < 3; ++round) {
    for (ThreadId t : {1u, 2u}) {
      d.OnAcquire(t, kLock);
      EXPECT_FALSE(d.OnAccess(t, kX, false, step++));
      EXPECT_FALSE(d.OnAccess(t, kX, true, step++));
      d.OnRelease(t, kLock);
    }
  }
  d.OnJoin(0, 1);
  d.OnJoin(0, 2);
  EXPECT_FALSE(d.OnAccess(0, kX, false, step++));
  EXPECT_EQ(d.stats().races, 0u);
}

TEST(RaceDetectorTest, DifferentLocksDoNotOrder) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  d.OnAcquire(1, kLock);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  d.OnRelease(1, kLock);
  d.OnAcquire(2, kLock + 50);
  EXPECT_TRUE(d.OnAccess(2, kX, true, 2).has_value());
}

TEST(RaceDetectorTest, JoinOrdersChildBeforeJoiner) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  d.OnJoin(0, 1);
  EXPECT_FALSE(d.OnAccess(0, kX, true, 2));
  EXPECT_FALSE(d.OnAccess(0, kX, false, 3));
}

TEST(RaceDetectorTest, AccessBeforeJoinRaces) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  auto race = d.OnAccess(0, kX, false, 2);  // the parent forgot to join first
  ASSERT_TRUE(race.has_value());
  EXPECT_EQ(race->earlier, (Access{1, true, 1}));
  EXPECT_EQ(race->later, (Access{0, false, 2}));
}

TEST(RaceDetectorTest, SpawnOrdersParentPastBeforeChild) {
  RaceDetector d;
  EXPECT_FALSE(d.OnAccess(0, kX, true, 1));
  d.OnSpawn(0, 1);
  EXPECT_FALSE(d.OnAccess(1, kX, false, 2));
  EXPECT_FALSE(d.OnAccess(1, kX, true, 3));
}

TEST(RaceDetectorTest, ParentWriteAfterSpawnRacesWithChild) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  EXPECT_FALSE(d.OnAccess(0, kX, true, 1));
  auto race = d.OnAccess(1, kX, false, 2);
  ASSERT_TRUE(race.has_value());
  EXPECT_EQ(race->earlier.thread, 0u);
}

// Message passing: data written, then a release store of a flag; the reader's acquire load sees
// the flag and then reads the data.
TEST(RaceDetectorTest, ReleaseAcquirePublicationIsQuiet) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  d.OnRelease(1, kFlag);
  d.OnAcquire(2, kFlag);
  EXPECT_FALSE(d.OnAccess(2, kX, false, 2));
  EXPECT_FALSE(d.OnAccess(2, kX, true, 3));
}

TEST(RaceDetectorTest, AcquireBeforeReleaseDoesNotOrder) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  d.OnAcquire(2, kFlag);  // saw nothing yet
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  d.OnRelease(1, kFlag);
  EXPECT_TRUE(d.OnAccess(2, kX, false, 2).has_value());
}

TEST(RaceDetectorTest, WritesAfterReleaseAreNotPublished) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  d.OnRelease(1, kFlag);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));  // after the release: not covered by it
  d.OnAcquire(2, kFlag);
  EXPECT_TRUE(d.OnAccess(2, kX, false, 2).has_value());
}

TEST(RaceDetectorTest, HappensBeforeIsTransitiveAcrossThreads) {
  RaceDetector d;
  for (ThreadId t = 1; t <= 3; ++t) d.OnSpawn(0, t);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  d.OnRelease(1, kLock);
  d.OnAcquire(2, kLock);
  d.OnRelease(2, kFlag);
  d.OnAcquire(3, kFlag);
  EXPECT_FALSE(d.OnAccess(3, kX, true, 2));
}

TEST(RaceDetectorTest, ReadReadIsQuietAndPromotesToReadClock) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(1, kX, false, 1));
  EXPECT_FALSE(d.HasReadClock(kX));
  EXPECT_FALSE(d.OnAccess(2, kX, false, 2));
  EXPECT_TRUE(d.HasReadClock(kX));
  EXPECT_EQ(d.stats().read_clock_promotions, 1u);
  EXPECT_EQ(d.stats().races, 0u);
}

TEST(RaceDetectorTest, OrderedReadsStayAnEpoch) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(1, kX, false, 1));
  d.OnRelease(1, kLock);
  d.OnAcquire(2, kLock);
  EXPECT_FALSE(d.OnAccess(2, kX, false, 2));
  EXPECT_FALSE(d.HasReadClock(kX));
}

TEST(RaceDetectorTest, WriteAfterUnorderedReadRaces) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(1, kX, false, 5));
  auto race = d.OnAccess(2, kX, true, 6);
  ASSERT_TRUE(race.has_value());
  EXPECT_EQ(race->earlier, (Access{1, false, 5}));
  EXPECT_EQ(race->later, (Access{2, true, 6}));
}

// After promotion, a write ordered after only one of two concurrent reads still races with the
// other: the read clock must remember both (a last-read epoch would have forgotten thread 1).
TEST(RaceDetectorTest, ReadClockRemembersEveryConcurrentReader) {
  RaceDetector d;
  for (ThreadId t = 1; t <= 3; ++t) d.OnSpawn(0, t);
  EXPECT_FALSE(d.OnAccess(1, kX, false, 1));
  EXPECT_FALSE(d.OnAccess(2, kX, false, 2));
  d.OnRelease(2, kLock);
  d.OnAcquire(3, kLock);  // thread 3 is ordered after thread 2's read only
  auto race = d.OnAccess(3, kX, true, 3);
  ASSERT_TRUE(race.has_value());
  EXPECT_EQ(race->earlier, (Access{1, false, 1}));
  EXPECT_FALSE(d.HasReadClock(kX));  // a write resets the read state
}

TEST(RaceDetectorTest, WriteOrderedAfterAllReadersIsQuiet) {
  RaceDetector d;
  for (ThreadId t = 1; t <= 3; ++t) d.OnSpawn(0, t);
  EXPECT_FALSE(d.OnAccess(1, kX, false, 1));
  EXPECT_FALSE(d.OnAccess(2, kX, false, 2));
  d.OnRelease(1, kLock);
  d.OnRelease(2, kFlag);
  d.OnAcquire(3, kLock);
  d.OnAcquire(3, kFlag);
  EXPECT_FALSE(d.OnAccess(3, kX, true, 3));
}

TEST(RaceDetectorTest, SameThreadNeverRaces) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  for (StepIndex s = 0; s < 10; ++s) EXPECT_FALSE(d.OnAccess(1, kX, s % 3 == 0, s));
}

TEST(RaceDetectorTest, LocationsAreIndependent) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  EXPECT_FALSE(d.OnAccess(2, kY, true, 2));
}

TEST(RaceDetectorTest, ResetForgetsTheExecution) {
  RaceDetector d;
  d.OnSpawn(0, 1);
  EXPECT_FALSE(d.OnAccess(1, kX, true, 1));
  d.Reset();
  EXPECT_EQ(d.stats().accesses, 0u);
  d.OnSpawn(0, 1);
  d.OnSpawn(0, 2);
  EXPECT_FALSE(d.OnAccess(2, kX, true, 1));  // thread 1's write is gone
}

}  // namespace
}  // namespace lab
