// lab/detect/graphcycles.h: a directed graph kept acyclic, with incremental cycle detection.
//
// The lock-order detector adds one edge per "held A while taking B" and must know at once when
// an edge would close a cycle. GraphCycles answers that in time proportional to the part of the
// graph between the two endpoints, not the whole graph, using the dynamic topological order of
// Pearce & Kelly ("A dynamic topological sort algorithm for directed acyclic graphs", JEA 2007),
// as abseil's absl/synchronization/internal/graphcycles.cc (the deadlock detector of
// absl::Mutex) does: every node has a distinct rank, every edge goes from a lower to a higher
// rank, and an edge x->y with rank(x) > rank(y) only re-ranks the nodes reachable from y with
// rank below rank(x) and the nodes reaching x with rank above rank(y).
//
// Nodes are dense ints from NewNode(); passing any other id is a programming error (aborts).
// Not thread-safe.
#pragma once

#include <cstddef>
#include <unordered_set>
#include <vector>

namespace lab {

class GraphCycles {
 public:
  // A new node with no edges.
  int NewNode();
  int NumNodes() const { return static_cast<int>(nodes_.size()); }

  // Adds from->to and returns true, or returns false and leaves the graph unchanged if the edge
  // would close a cycle (including from == to). Adding an existing edge returns true.
  bool InsertEdge(int from, int to);
  // Removes from->to if present.
  void RemoveEdge(int from, int to);
  bool HasEdge(int from, int to) const;

  // A shortest path from `from` to `to` as the list of nodes [from, ..., to]; {from} when
  // from == to; empty if `to` is not reachable.
  std::vector<int> FindPath(int from, int to) const;
  bool IsReachable(int from, int to) const { return !FindPath(from, to).empty(); }

  // Checks that ranks are a permutation and every edge goes up in rank (tests).
  bool CheckInvariants() const;

 private:
  struct Node {
    int rank = 0;
    bool visited = false;
    std::unordered_set<int> in;
    std::unordered_set<int> out;
  };

  void CheckId(int id) const;
  // Collects into forward_ the nodes reachable from `n` with rank < upper_bound; false if it
  // meets the node of rank upper_bound (a cycle).
  bool ForwardDfs(int n, int upper_bound);
  // Collects into backward_ the nodes reaching `n` with rank > lower_bound.
  void BackwardDfs(int n, int lower_bound);
  void Reorder();
  void ClearVisited(const std::vector<int>& nodes);

  std::vector<Node> nodes_;
  // Scratch space of InsertEdge, kept to avoid allocating on every insertion.
  std::vector<int> forward_, backward_, stack_, merged_;
};

}  // namespace lab
