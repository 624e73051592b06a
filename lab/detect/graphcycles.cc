#include "lab/detect/graphcycles.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>

namespace lab {

void GraphCycles::CheckId(int id) const {
  if (id < 0 || id >= NumNodes()) {
    std::fprintf(stderr, "lab::GraphCycles: node id %d is not from NewNode() (have %d nodes)\n", id,
                 NumNodes());
    std::abort();
  }
}

int GraphCycles::NewNode() {
  int id = NumNodes();
  nodes_.emplace_back();
  nodes_.back().rank = id;  // highest rank: a new node has no edges, any order is valid
  return id;
}

bool GraphCycles::HasEdge(int from, int to) const {
  CheckId(from);
  CheckId(to);
  return nodes_[from].out.contains(to);
}

void GraphCycles::RemoveEdge(int from, int to) {
  CheckId(from);
  CheckId(to);
  // Removing an edge keeps the order topological: nothing to re-rank.
  nodes_[from].out.erase(to);
  nodes_[to].in.erase(from);
}

bool GraphCycles::InsertEdge(int from, int to) {
  CheckId(from);
  CheckId(to);
  if (from == to) return false;
  Node& x = nodes_[from];
  if (x.out.contains(to)) return true;
  Node& y = nodes_[to];
  x.out.insert(to);
  y.in.insert(from);
  if (x.rank < y.rank) return true;  // already in topological order

  // The affected region lies between rank(y) and rank(x).
  const int upper = x.rank;
  const int lower = y.rank;
  if (!ForwardDfs(to, upper)) {
    nodes_[from].out.erase(to);
    nodes_[to].in.erase(from);
    ClearVisited(forward_);
    return false;
  }
  BackwardDfs(from, lower);
  Reorder();
  return true;
}

bool GraphCycles::ForwardDfs(int n, int upper_bound) {
  forward_.clear();
  stack_.clear();
  stack_.push_back(n);
  while (!stack_.empty()) {
    int cur = stack_.back();
    stack_.pop_back();
    Node& node = nodes_[cur];
    if (node.visited) continue;
    node.visited = true;
    forward_.push_back(cur);
    for (int w : node.out) {
      const Node& next = nodes_[w];
      if (next.rank == upper_bound) return false;  // reached `from`: the edge closes a cycle
      if (!next.visited && next.rank < upper_bound) stack_.push_back(w);
    }
  }
  return true;
}

void GraphCycles::BackwardDfs(int n, int lower_bound) {
  backward_.clear();
  stack_.clear();
  stack_.push_back(n);
  while (!stack_.empty()) {
    int cur = stack_.back();
    stack_.pop_back();
    Node& node = nodes_[cur];
    if (node.visited) continue;
    node.visited = true;
    backward_.push_back(cur);
    for (int w : node.in) {
      const Node& prev = nodes_[w];
      if (!prev.visited && prev.rank > lower_bound) stack_.push_back(w);
    }
  }
}

void GraphCycles::Reorder() {
  auto by_rank = [this](int a, int b) { return nodes_[a].rank < nodes_[b].rank; };
  std::sort(backward_.begin(), backward_.end(), by_rank);
  std::sort(forward_.begin(), forward_.end(), by_rank);
  // The ranks the two sets occupy, reused in order: first everything that reaches `from`, then
  // everything reachable from `to`, each set keeping its relative order.
  merged_.clear();
  for (int n : backward_) merged_.push_back(nodes_[n].rank);
  for (int n : forward_) merged_.push_back(nodes_[n].rank);
  std::sort(merged_.begin(), merged_.end());
  std::size_t i = 0;
  for (int n : backward_) {
    nodes_[n].rank = merged_[i++];
    nodes_[n].visited = false;
  }
  for (int n : forward_) {
    nodes_[n].rank = merged_[i++];
    nodes_[n].visited = false;
  }
}

void GraphCycles::ClearVisited(const std::vector<int>& nodes) {
  for (int n : nodes) nodes_[n].visited = false;
}

std::vector<int> GraphCycles::FindPath(int from, int to) const {
  CheckId(from);
  CheckId(to);
  if (from == to) return {from};
  // Breadth-first, so a report shows the shortest chain of lock orders. A node can reach `to`
  // only through ranks below rank(to), which prunes the search.
  const int limit = nodes_[to].rank;
  if (nodes_[from].rank > limit) return {};
  std::vector<int> parent(nodes_.size(), -1);
  std::deque<int> queue{from};
  parent[from] = from;
  while (!queue.empty()) {
    int cur = queue.front();
    queue.pop_front();
    for (int w : nodes_[cur].out) {
      if (parent[w] != -1 || nodes_[w].rank > limit) continue;
      parent[w] = cur;
      if (w == to) {
        std::vector<int> path{to};
        for (int n = to; n != from; n = parent[n]) path.push_back(parent[n]);
        std::reverse(path.begin(), path.end());
        return path;
      }
      queue.push_back(w);
    }
  }
  return {};
}

bool GraphCycles::CheckInvariants() const {
  std::vector<bool> seen(nodes_.size(), false);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.visited || n.rank < 0 || n.rank >= NumNodes() || seen[n.rank]) return false;
    seen[n.rank] = true;
    for (int w : n.out) {
      if (nodes_[w].rank <= n.rank || !nodes_[w].in.contains(static_cast<int>(i))) return false;
    }
    for (int w : n.in) {
      if (!nodes_[w].out.contains(static_cast<int>(i))) return false;
    }
  }
  return true;
}

}  // namespace lab
