// lab/detect/fixed_race.h: the FastTrack race detector of race.h in a fixed-size, pointer-free
// form that can live in memory shared by several processes (placed with new into a MAP_SHARED
// segment before fork, every process of a tree updates the same state).
//
// Same contract as lab::RaceDetector (OnSpawn / OnJoin / OnAcquire / OnRelease / OnAccess,
// reporting the first unordered conflicting earlier access), with thread ids dense and global to
// whoever shares it, and bounded memory (sizeof(FixedRaceDetector), about 1 MB, no allocation).
// What happens at each bound -- never a reported race that is not one, at worst a missed one:
// - a thread id >= kThreads, or a new synchronization object with the table of kSyncObjects full:
//   the detector stops (every later call is ignored, `stopped()` says why), since dropping that
//   thread's or object's happens-before edges could invent races;
// - a new location with the table of kLocations full: that location is not checked
//   (`stats().unchecked_accesses` counts such accesses);
// - more than kReadSlots reads unordered with each other since the last write: the oldest is
//   forgotten, so a later write racing only with it goes unreported.
//
// Not thread-safe: the caller runs one thread at a time (the lab's baton) and calls in from it.
#pragma once

#include <cstdint>
#include <optional>

#include "lab/detect/race.h"
#include "lab/rt/ids.h"

namespace lab {

class FixedRaceDetector {
 public:
  static constexpr std::uint32_t kThreads = 64;
  static constexpr std::uint32_t kSyncObjects = 1024;
  static constexpr std::uint32_t kLocations = 8192;
  static constexpr std::uint32_t kReadSlots = 4;

  enum class Stop : std::uint8_t { kNo, kTooManyThreads, kTooManySyncObjects };
  struct Stats {
    std::uint64_t accesses = 0;
    std::uint64_t unchecked_accesses = 0;  // to locations beyond kLocations
    std::uint32_t locations = 0;
    std::uint32_t sync_objects = 0;
  };

  void OnSpawn(ThreadId parent, ThreadId child);
  void OnJoin(ThreadId joiner, ThreadId joined);
  void OnAcquire(ThreadId t, ObjectId sync);
  void OnRelease(ThreadId t, ObjectId sync);
  // `location` must not be kNoObject.
  std::optional<Race> OnAccess(ThreadId t, ObjectId location, bool is_write, StepIndex step);

  Stop stopped() const { return stop_; }
  const Stats& stats() const { return stats_; }

 private:
  struct Clock32 {
    std::uint32_t c[kThreads];
    void Join(const Clock32& o) {
      for (std::uint32_t i = 0; i < kThreads; ++i) c[i] = c[i] > o.c[i] ? c[i] : o.c[i];
    }
  };
  struct Stamp {
    std::uint32_t thread = kNoThread;
    std::uint32_t clock = 0;
    StepIndex step = 0;
    bool valid() const { return thread != kNoThread; }
  };
  struct Location {
    ObjectId key = kNoObject;
    Stamp write;
    Stamp reads[kReadSlots];  // unordered reads since the last write (valid ones first)
  };
  struct Sync {
    ObjectId key = kNoObject;
    Clock32 clock;
  };

  // The thread's clock, started (own entry 1) on first use; nullptr once stopped.
  Clock32* Thread(ThreadId t);
  bool Covers(const Clock32& now, const Stamp& s) const { return !s.valid() || s.clock <= now.c[s.thread]; }

  Stop stop_ = Stop::kNo;
  Stats stats_;
  bool started_[kThreads] = {};
  Clock32 threads_[kThreads] = {};
  Sync sync_[kSyncObjects] = {};
  Location locations_[kLocations] = {};
};

}  // namespace lab
