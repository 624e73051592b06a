// lab/detect/lock_order.h: lock-order inversion (potential deadlock) detection.
//
// Every time a thread acquires lock B while holding lock A, the detector records the order
// A -> B in a lock-order graph (a GraphCycles). An acquisition whose order would close a cycle,
// A -> B -> ... -> A, is a lock-order inversion: some schedule can make each thread of the cycle
// hold one lock and wait for the next, a deadlock, even if this run did not hang. This is what
// Linux lockdep and TSan's deadlock detector report.
//
// A cycle is not reported when no schedule can deadlock on it:
// - Gate lock: every edge of the cycle was taken while one common other lock was held; the
//   gate serializes the threads, so they can never hold the cycle's locks at once.
// - Shared holders: at some lock of the cycle the thread waiting for it wants it shared and the
//   thread holding it holds it shared (two readers of a rwlock do not block each other). A
//   reader-reader edge alone does not make a cycle harmless: rdlock(A) rdlock(B) against
//   wrlock(B) wrlock(A) still deadlocks.
// An order seen several times keeps the weakest evidence: its gate set is the intersection of
// the locks held exclusively on every occurrence (a lock held shared gates nothing), and each
// shared/exclusive mode combination is remembered.
// Only the cycle through the shortest path found when the closing edge is added is examined.
//
// A single thread taking A then B and later B then A is reported too: the same code run by two
// threads deadlocks (as lockdep and TSan report it).
//
// Persistence: Reset() starts a new execution (held locks are forgotten) but keeps the lock-order
// graph, so an inversion is found across executions, as the issue asks; this is meaningful when
// the runtime gives the same lock the same ObjectId in every execution (objects are numbered in
// creation order). Clear() forgets the graph too. Each edge records the execution it was seen in.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lab/detect/graphcycles.h"
#include "lab/rt/ids.h"

namespace lab {

struct HeldLock {
  ObjectId lock = kNoObject;
  StepIndex step = 0;
  bool shared = false;
};

// `thread` acquired `second` at `second_step` while holding `first`, taken at `first_step`.
struct LockOrderEdge {
  ObjectId first = kNoObject;
  ObjectId second = kNoObject;
  ThreadId thread = kNoThread;
  StepIndex first_step = 0;
  StepIndex second_step = 0;
  bool first_shared = false;   // `first` was held shared
  bool second_shared = false;  // `second` was acquired shared
  std::uint64_t execution = 0;  // the execution (counted by Reset()) the edge was seen in
};

// edges[i].second == edges[i + 1].first, and the last edge's second is edges[0].first.
// edges[0] is the order whose acquisition closed the cycle.
struct LockOrderCycle {
  std::vector<LockOrderEdge> edges;
};

class LockOrderDetector {
 public:
  // `t` acquired `lock` (blocking acquisition) at `step`, shared for a reader lock.
  void OnAcquired(ThreadId t, ObjectId lock, StepIndex step, bool shared = false);
  // `t` acquired `lock` with a try-lock: a try cannot block, so it adds no order, but the lock
  // is held and orders later acquisitions.
  void OnTryAcquired(ThreadId t, ObjectId lock, StepIndex step, bool shared = false);
  // `t` released (its latest acquisition of) `lock`; locks may be released in any order.
  void OnReleased(ThreadId t, ObjectId lock);
  // A cycle closed by an OnAcquired since the last call (each distinct cycle, as a set of
  // orders, is reported once over the detector's life); nullopt otherwise.
  std::optional<LockOrderCycle> TakeNewCycle();
  // New execution: forgets held locks, keeps the lock-order graph.
  void Reset();
  // Forgets everything, the graph and the reported cycles included.
  void Clear();

  // The locks `t` holds, in acquisition order.
  const std::vector<HeldLock>& Held(ThreadId t) const;
  // Number of distinct orders A -> B recorded.
  std::size_t NumOrders() const { return orders_.size(); }

 private:
  struct Variant {
    LockOrderEdge edge;           // first occurrence, for the report
    std::vector<ObjectId> gates;  // sorted: locks held on every occurrence, besides the pair
  };
  struct Order {
    std::vector<Variant> variants;  // one per (first_shared, second_shared) seen
  };

  int NodeOf(ObjectId lock);
  void RecordOrder(ThreadId t, const HeldLock& first, ObjectId second, StepIndex step, bool shared,
                   std::vector<ObjectId> gates);
  // A deadlock-capable choice of variants for the cycle of locks `locks` (locks[i] -> locks[i+1]).
  std::optional<LockOrderCycle> Evaluate(const std::vector<ObjectId>& locks) const;

  GraphCycles graph_;
  std::unordered_map<ObjectId, int> node_of_;
  std::vector<ObjectId> lock_of_node_;
  std::map<std::pair<ObjectId, ObjectId>, Order> orders_;
  std::unordered_map<ThreadId, std::vector<HeldLock>> held_;
  std::set<std::vector<ObjectId>> reported_;
  std::deque<LockOrderCycle> pending_;
  std::uint64_t execution_ = 0;
};

}  // namespace lab
