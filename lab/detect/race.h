// lab/detect/race.h: happens-before data-race detection over the lab's checked locations.
//
// The runtime feeds the detector the synchronization of one execution (spawn, join, acquire,
// release on synchronization objects) and every plain access to a checked location (each
// `lab::Shared<T>` is one ObjectId). Two accesses race when at least one is a write and neither
// happens before the other. The algorithm is FastTrack (Flanagan & Freund, PLDI 2009): each
// thread has a vector clock; each location keeps only the epoch of its last write and either the
// epoch of its last read (the common, totally ordered case) or, once two unordered reads exist,
// a per-thread read clock. The detector is exact for the events it is fed: every race between a
// pair of accesses it reports is real under the modelled happens-before, and for each access
// that races with an earlier one, at least one such race is reported.
//
// Synchronization objects accumulate: a release joins the releasing thread's clock into the
// object's clock, and an acquire joins the object's clock into the acquirer. For a mutex this is
// the same as FastTrack's copy (the holders are totally ordered); for a semaphore or a release
// store read by several acquirers it over-approximates happens-before slightly (a waiter is
// ordered after every earlier post, not only the one it consumed), which can hide a race but
// never invents one.
//
// Not thread-safe: the runtime runs one controlled thread at a time and calls in from it.
#pragma once

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

#include "lab/detect/vector_clock.h"
#include "lab/rt/ids.h"

namespace lab {

struct Access {
  ThreadId thread = kNoThread;
  bool is_write = false;
  StepIndex step = 0;
  friend bool operator==(const Access&, const Access&) = default;
};

// `earlier` and `later` conflict (one writes) and are unordered by happens-before.
struct Race {
  ObjectId location = kNoObject;
  Access earlier;
  Access later;
};

class RaceDetector {
 public:
  struct Stats {
    std::size_t accesses = 0;
    std::size_t races = 0;
    std::size_t read_clock_promotions = 0;  // epoch -> per-thread read clock (FastTrack's slow path)
  };

  // `child` starts after everything `parent` did so far.
  void OnSpawn(ThreadId parent, ThreadId child);
  // `joiner` has seen everything `joined` did.
  void OnJoin(ThreadId joiner, ThreadId joined);
  // Lock, semaphore wait, condvar wake-up, acquire load that read a release store, ...
  void OnAcquire(ThreadId t, ObjectId sync);
  // Unlock, semaphore post, notify, release store, ...
  void OnRelease(ThreadId t, ObjectId sync);
  // A plain access of `location`. Returns the first conflicting earlier access that is not
  // ordered before this one, if any (the location's state is updated either way, so one bug
  // is reported once per pair rather than on every later access).
  std::optional<Race> OnAccess(ThreadId t, ObjectId location, bool is_write, StepIndex step);
  // Forgets everything: a new execution starts.
  void Reset();

  const Stats& stats() const { return stats_; }
  // True once `location` has had two unordered reads since its last write (tests, diagnostics).
  bool HasReadClock(ObjectId location) const;
  // The current clock of `t` (tests, diagnostics).
  const VectorClock& ClockOf(ThreadId t);

 private:
  struct LocationState {
    Epoch write;
    StepIndex write_step = 0;
    Epoch read;  // valid while reads are totally ordered
    StepIndex read_step = 0;
    bool shared_reads = false;
    std::vector<Clock> read_clocks;  // per thread, 0 = none; used once shared_reads
    std::vector<StepIndex> read_steps;
  };

  VectorClock& Thread(ThreadId t);
  static void RecordSharedRead(LocationState& s, ThreadId t, Clock c, StepIndex step);

  std::vector<VectorClock> threads_;
  std::vector<bool> started_;
  std::unordered_map<ObjectId, VectorClock> sync_;
  std::unordered_map<ObjectId, LocationState> locations_;
  Stats stats_;
};

}  // namespace lab
