#include "lab/detect/fixed_race.h"

namespace lab {
namespace {

// Open addressing with linear probing over a table without deletions: the slot holding `key`,
// else the empty slot it would go to, else nullptr (full).
template <typename Slot, std::uint32_t N>
Slot* Probe(Slot (&table)[N], ObjectId key) {
  const auto start = static_cast<std::uint32_t>(((key * 0x9E3779B97F4A7C15ull) >> 32) % N);
  for (std::uint32_t k = 0; k < N; ++k) {
    Slot& s = table[(start + k) % N];
    if (s.key == key || s.key == kNoObject) return &s;
  }
  return nullptr;
}

}  // namespace

FixedRaceDetector::Clock32* FixedRaceDetector::Thread(ThreadId t) {
  if (stop_ != Stop::kNo) return nullptr;
  if (t >= kThreads) {
    stop_ = Stop::kTooManyThreads;
    return nullptr;
  }
  if (!started_[t]) {
    started_[t] = true;
    if (threads_[t].c[t] == 0) threads_[t].c[t] = 1;
  }
  return &threads_[t];
}

void FixedRaceDetector::OnSpawn(ThreadId parent, ThreadId child) {
  Clock32* p = Thread(parent);
  Clock32* c = Thread(child);
  if (p == nullptr || c == nullptr) return;
  c->Join(*p);
  ++p->c[parent];
}

void FixedRaceDetector::OnJoin(ThreadId joiner, ThreadId joined) {
  Clock32* j = Thread(joiner);
  Clock32* d = Thread(joined);
  if (j == nullptr || d == nullptr) return;
  j->Join(*d);
  ++d->c[joined];
}

void FixedRaceDetector::OnAcquire(ThreadId t, ObjectId sync) {
  Clock32* c = Thread(t);
  if (c == nullptr) return;
  Sync* s = Probe(sync_, sync);
  if (s != nullptr && s->key == sync) c->Join(s->clock);
  // An object never released carries nothing; it gets a slot at its first release.
}

void FixedRaceDetector::OnRelease(ThreadId t, ObjectId sync) {
  Clock32* c = Thread(t);
  if (c == nullptr) return;
  Sync* s = Probe(sync_, sync);
  if (s == nullptr) {
    stop_ = Stop::kTooManySyncObjects;
    return;
  }
  if (s->key == kNoObject) {
    s->key = sync;
    ++stats_.sync_objects;
  }
  s->clock.Join(*c);
  ++c->c[t];
}

std::optional<Race> FixedRaceDetector::OnAccess(ThreadId t, ObjectId location, bool is_write, StepIndex step) {
  Clock32* now = Thread(t);
  if (now == nullptr) return std::nullopt;
  ++stats_.accesses;
  Location* s = Probe(locations_, location);
  if (s == nullptr) {
    ++stats_.unchecked_accesses;
    return std::nullopt;
  }
  if (s->key == kNoObject) {
    s->key = location;
    ++stats_.locations;
  }
  const Stamp mine{t, now->c[t], step};
  std::optional<Race> race;
  auto report = [&](const Stamp& other, bool other_write) {
    if (!race) race = Race{location, Access{other.thread, other_write, other.step}, Access{t, is_write, step}};
  };
  if (!Covers(*now, s->write)) report(s->write, true);
  if (is_write) {
    for (const Stamp& r : s->reads) {
      if (!Covers(*now, r)) report(r, false);
    }
    s->write = mine;
    for (Stamp& r : s->reads) r = Stamp{};
    return race;
  }
  // A read: forget the reads it is ordered after (FastTrack's epoch case when that is all of
  // them), keep the unordered ones, and add this one (evicting the oldest when full).
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < kReadSlots; ++i) {
    const Stamp r = s->reads[i];
    if (r.valid() && r.thread != t && !Covers(*now, r)) s->reads[kept++] = r;
  }
  if (kept == kReadSlots) {
    for (std::uint32_t i = 1; i < kReadSlots; ++i) s->reads[i - 1] = s->reads[i];
    kept = kReadSlots - 1;
  }
  s->reads[kept++] = mine;
  for (std::uint32_t i = kept; i < kReadSlots; ++i) s->reads[i] = Stamp{};
  return race;
}

}  // namespace lab
