#include "lab/detect/lock_order.h"

#include <algorithm>
#include <iterator>

namespace lab {
namespace {

// Cycles are compared as lock sequences rotated to start at their smallest lock.
std::vector<ObjectId> Canonical(std::vector<ObjectId> locks) {
  auto smallest = std::min_element(locks.begin(), locks.end());
  std::rotate(locks.begin(), smallest, locks.end());
  return locks;
}

const std::vector<HeldLock> kNoLocks;

// Variant choices examined per cycle at most; cycles are short and orders rarely have more than
// one mode combination, so this bound is only a guard against pathological inputs.
constexpr std::size_t kMaxCombinations = 1 << 12;

}  // namespace

int LockOrderDetector::NodeOf(ObjectId lock) {
  auto [it, inserted] = node_of_.try_emplace(lock, 0);
  if (inserted) {
    it->second = graph_.NewNode();
    lock_of_node_.push_back(lock);
  }
  return it->second;
}

void LockOrderDetector::OnAcquired(ThreadId t, ObjectId lock, StepIndex step, bool shared) {
  std::vector<HeldLock>& held = held_[t];
  // A recursive acquisition cannot block (the thread owns the lock already): no order.
  for (const HeldLock& h : held) {
    if (h.lock == lock) {
      held.push_back(HeldLock{lock, step, shared});
      return;
    }
  }
  std::vector<ObjectId> others;
  // Only a lock held exclusively can be a gate: two threads may hold a reader lock at once.
  for (const HeldLock& h : held) {
    if (!h.shared) others.push_back(h.lock);
  }
  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  // Copy: RecordOrder does not touch held_, but keep the loop independent of it anyway.
  const std::vector<HeldLock> snapshot = held;
  for (const HeldLock& h : snapshot) {
    std::vector<ObjectId> gates;
    for (ObjectId o : others) {
      if (o != h.lock && o != lock) gates.push_back(o);
    }
    RecordOrder(t, h, lock, step, shared, std::move(gates));
  }
  held_[t].push_back(HeldLock{lock, step, shared});
}

void LockOrderDetector::OnTryAcquired(ThreadId t, ObjectId lock, StepIndex step, bool shared) {
  held_[t].push_back(HeldLock{lock, step, shared});
}

void LockOrderDetector::OnReleased(ThreadId t, ObjectId lock) {
  auto it = held_.find(t);
  if (it == held_.end()) return;
  std::vector<HeldLock>& held = it->second;
  for (auto h = held.rbegin(); h != held.rend(); ++h) {
    if (h->lock == lock) {
      held.erase(std::next(h).base());
      return;
    }
  }
}

void LockOrderDetector::RecordOrder(ThreadId t, const HeldLock& first, ObjectId second,
                                    StepIndex step, bool shared, std::vector<ObjectId> gates) {
  Order& order = orders_[{first.lock, second}];
  auto variant = std::find_if(order.variants.begin(), order.variants.end(), [&](const Variant& v) {
    return v.edge.first_shared == first.shared && v.edge.second_shared == shared;
  });
  if (variant == order.variants.end()) {
    order.variants.push_back(Variant{
        LockOrderEdge{first.lock, second, t, first.step, step, first.shared, shared, execution_},
        std::move(gates)});
  } else {
    std::vector<ObjectId> common;
    std::set_intersection(variant->gates.begin(), variant->gates.end(), gates.begin(), gates.end(),
                          std::back_inserter(common));
    if (common.size() < variant->gates.size()) {
      // This occurrence weakened the gate: it is the evidence a report should show.
      variant->edge =
          LockOrderEdge{first.lock, second, t, first.step, step, first.shared, shared, execution_};
    }
    variant->gates = std::move(common);
  }

  const int from = NodeOf(first.lock);
  const int to = NodeOf(second);
  if (graph_.InsertEdge(from, to)) return;
  // The order closes a cycle: first -> second -> ... -> first. The closing edge stays out of the
  // graph (which remains a DAG) but its evidence is kept in orders_.
  std::vector<int> path = graph_.FindPath(to, from);
  if (path.empty()) return;  // cannot happen: InsertEdge failed only because of such a path
  std::vector<ObjectId> locks{first.lock};
  for (std::size_t i = 0; i + 1 < path.size(); ++i) locks.push_back(lock_of_node_[path[i]]);
  if (reported_.contains(Canonical(locks))) return;
  if (auto cycle = Evaluate(locks)) {
    reported_.insert(Canonical(locks));
    pending_.push_back(std::move(*cycle));
  }
}

std::optional<LockOrderCycle> LockOrderDetector::Evaluate(const std::vector<ObjectId>& locks) const {
  const std::size_t n = locks.size();
  std::vector<const Order*> orders(n);
  std::size_t combinations = 1;
  for (std::size_t i = 0; i < n; ++i) {
    auto it = orders_.find({locks[i], locks[(i + 1) % n]});
    if (it == orders_.end() || it->second.variants.empty()) return std::nullopt;
    orders[i] = &it->second;
    combinations = std::min(kMaxCombinations, combinations * it->second.variants.size());
  }
  std::vector<std::size_t> pick(n, 0);
  for (std::size_t c = 0; c < combinations; ++c) {
    // Decode combination c into one variant per order.
    std::size_t rest = c;
    for (std::size_t i = 0; i < n; ++i) {
      pick[i] = rest % orders[i]->variants.size();
      rest /= orders[i]->variants.size();
    }
    auto variant = [&](std::size_t i) -> const Variant& { return orders[i]->variants[pick[i]]; };
    bool can_block = true;
    for (std::size_t i = 0; i < n && can_block; ++i) {
      // At lock locks[i+1]: edge i's thread waits for it, edge i+1's thread holds it.
      const bool waiter_shared = variant(i).edge.second_shared;
      const bool holder_shared = variant((i + 1) % n).edge.first_shared;
      if (waiter_shared && holder_shared) can_block = false;
    }
    if (!can_block) continue;
    std::vector<ObjectId> common = variant(0).gates;
    for (std::size_t i = 1; i < n && !common.empty(); ++i) {
      std::vector<ObjectId> next;
      std::set_intersection(common.begin(), common.end(), variant(i).gates.begin(),
                            variant(i).gates.end(), std::back_inserter(next));
      common = std::move(next);
    }
    if (!common.empty()) continue;  // a gate lock serializes the whole cycle
    LockOrderCycle cycle;
    for (std::size_t i = 0; i < n; ++i) cycle.edges.push_back(variant(i).edge);
    return cycle;
  }
  return std::nullopt;
}

std::optional<LockOrderCycle> LockOrderDetector::TakeNewCycle() {
  if (pending_.empty()) return std::nullopt;
  LockOrderCycle cycle = std::move(pending_.front());
  pending_.pop_front();
  return cycle;
}

const std::vector<HeldLock>& LockOrderDetector::Held(ThreadId t) const {
  auto it = held_.find(t);
  return it == held_.end() ? kNoLocks : it->second;
}

void LockOrderDetector::Reset() {
  held_.clear();
  pending_.clear();
  ++execution_;
}

void LockOrderDetector::Clear() {
  graph_ = GraphCycles();
  node_of_.clear();
  lock_of_node_.clear();
  orders_.clear();
  held_.clear();
  reported_.clear();
  pending_.clear();
  execution_ = 0;
}

}  // namespace lab
