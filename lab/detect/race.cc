#include "lab/detect/race.h"

namespace lab {

VectorClock& RaceDetector::Thread(ThreadId t) {
  if (t >= threads_.size()) {
    threads_.resize(static_cast<std::size_t>(t) + 1);
    started_.resize(static_cast<std::size_t>(t) + 1, false);
  }
  if (!started_[t]) {
    // A thread's own component starts at 1 so its first epoch is not covered by a clock that
    // has never heard of it (whose entry is 0).
    started_[t] = true;
    if (threads_[t].Get(t) == 0) threads_[t].Set(t, 1);
  }
  return threads_[t];
}

const VectorClock& RaceDetector::ClockOf(ThreadId t) { return Thread(t); }

void RaceDetector::OnSpawn(ThreadId parent, ThreadId child) {
  VectorClock& p = Thread(parent);
  VectorClock snapshot = p;
  Thread(child).Join(snapshot);
  // Parent's later steps are not visible to the child.
  Thread(parent).Tick(parent);
}

void RaceDetector::OnJoin(ThreadId joiner, ThreadId joined) {
  VectorClock done = Thread(joined);
  Thread(joiner).Join(done);
  // Anything `joined` did after this (it should do nothing) is not covered.
  Thread(joined).Tick(joined);
}

void RaceDetector::OnAcquire(ThreadId t, ObjectId sync) {
  auto it = sync_.find(sync);
  VectorClock& c = Thread(t);
  if (it != sync_.end()) c.Join(it->second);
}

void RaceDetector::OnRelease(ThreadId t, ObjectId sync) {
  VectorClock& c = Thread(t);
  sync_[sync].Join(c);
  c.Tick(t);
}

void RaceDetector::RecordSharedRead(LocationState& s, ThreadId t, Clock c, StepIndex step) {
  if (t >= s.read_clocks.size()) {
    s.read_clocks.resize(static_cast<std::size_t>(t) + 1, 0);
    s.read_steps.resize(static_cast<std::size_t>(t) + 1, 0);
  }
  s.read_clocks[t] = c;
  s.read_steps[t] = step;
}

std::optional<Race> RaceDetector::OnAccess(ThreadId t, ObjectId location, bool is_write,
                                           StepIndex step) {
  ++stats_.accesses;
  const VectorClock& now = Thread(t);
  const Epoch mine = now.EpochOf(t);
  LocationState& s = locations_[location];
  std::optional<Race> race;
  auto report = [&](ThreadId other, bool other_write, StepIndex other_step) {
    if (race) return;
    race = Race{location, Access{other, other_write, other_step}, Access{t, is_write, step}};
  };

  // Write-write and write-read: the last write must happen before this access.
  if (s.write.valid() && !now.Covers(s.write)) report(s.write.thread, true, s.write_step);

  if (!is_write) {
    if (s.shared_reads) {
      RecordSharedRead(s, t, mine.clock, step);
    } else if (s.read == mine) {
      // Same epoch: nothing new to remember (FastTrack's fast path).
    } else if (!s.read.valid() || now.Covers(s.read)) {
      s.read = mine;
      s.read_step = step;
    } else {
      // Two unordered reads: both must be remembered for the next write to check.
      ++stats_.read_clock_promotions;
      s.shared_reads = true;
      RecordSharedRead(s, s.read.thread, s.read.clock, s.read_step);
      RecordSharedRead(s, t, mine.clock, step);
      s.read = Epoch{};
    }
  } else {
    // Read-write: every read since the last write must happen before this write.
    if (s.shared_reads) {
      for (std::size_t u = 0; u < s.read_clocks.size(); ++u) {
        Epoch e{static_cast<ThreadId>(u), s.read_clocks[u]};
        if (e.clock != 0 && !now.Covers(e)) report(e.thread, false, s.read_steps[u]);
      }
    } else if (s.read.valid() && !now.Covers(s.read)) {
      report(s.read.thread, false, s.read_step);
    }
    // Every remembered read is now ordered before this write or has been reported.
    s.write = mine;
    s.write_step = step;
    s.read = Epoch{};
    s.shared_reads = false;
    s.read_clocks.clear();
    s.read_steps.clear();
  }
  if (race) ++stats_.races;
  return race;
}

bool RaceDetector::HasReadClock(ObjectId location) const {
  auto it = locations_.find(location);
  return it != locations_.end() && it->second.shared_reads;
}

void RaceDetector::Reset() {
  threads_.clear();
  started_.clear();
  sync_.clear();
  locations_.clear();
  stats_ = Stats{};
}

}  // namespace lab
