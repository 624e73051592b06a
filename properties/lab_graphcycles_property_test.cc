// GraphCycles against a brute-force model: an adjacency matrix and a depth-first search for
// reachability, on random sequences of edge insertions and removals.
// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "lab/detect/graphcycles.h"

namespace lab {
namespace {

struct Op {
  bool insert = true;
  int from = 0;
  int to = 0;
};

class Model {
 public:
  explicit Model(int n) : adj_(n, std::vector<bool>(n, false)) {}
  bool Reaches(int from, int to) const {
    std::vector<bool> seen(adj_.size(), false);
    std::vector<int> stack{from};
    while (!stack.empty()) {
      int c = stack.back();
      stack.pop_back();
      if (c == to) return true;
      if (seen[c]) continue;
      seen[c] = true;
      for (int w = 0; w < static_cast<int>(adj_.size()); ++w) {
        if (adj_[c][w]) stack.push_back(w);
      }
    }
    return false;
  }
  bool Edge(int from, int to) const { return adj_[from][to]; }
  void Set(int from, int to, bool present) { adj_[from][to] = present; }

 private:
  std::vector<std::vector<bool>> adj_;
};

RC_GTEST_PROP(LabGraphCyclesProperty, AgreesWithBruteForceReachability, ()) {
  const int n = *rc::gen::inRange(1, 13);
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::insert, rc::gen::weightedElement<bool>({{3, true}, {1, false}})),
      rc::gen::set(&Op::from, rc::gen::inRange(0, n)), rc::gen::set(&Op::to, rc::gen::inRange(0, n))));
  GraphCycles graph;
  for (int i = 0; i < n; ++i) RC_ASSERT(graph.NewNode() == i);
  Model model(n);
  for (const Op& op : ops) {
    if (op.insert) {
      // The edge is acceptable iff it does not close a cycle (a self-loop is one).
      const bool acyclic = op.from != op.to && !model.Reaches(op.to, op.from);
      RC_ASSERT(graph.InsertEdge(op.from, op.to) == acyclic);
      if (acyclic) model.Set(op.from, op.to, true);
    } else {
      graph.RemoveEdge(op.from, op.to);
      model.Set(op.from, op.to, false);
    }
    RC_ASSERT(graph.CheckInvariants());
  }
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      RC_ASSERT(graph.HasEdge(a, b) == model.Edge(a, b));
      std::vector<int> path = graph.FindPath(a, b);
      RC_ASSERT(path.empty() == !model.Reaches(a, b));
      if (path.empty()) continue;
      RC_ASSERT(path.front() == a);
      RC_ASSERT(path.back() == b);
      for (std::size_t i = 0; i + 1 < path.size(); ++i) RC_ASSERT(model.Edge(path[i], path[i + 1]));
    }
  }
}

}  // namespace
}  // namespace lab
