#include "lab/detect/graphcycles.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace lab {
namespace {

std::vector<int> Nodes(GraphCycles& g, int n) {
  std::vector<int> ids;
  for (int i = 0; i < n; ++i) ids.push_back(g.NewNode());
  return ids;
}

TEST(GraphCyclesTest, RejectsSelfLoopAndTwoCycle) {
  GraphCycles g;
  auto n = Nodes(g, 2);
  EXPECT_FALSE(g.InsertEdge(n[0], n[0]));
  EXPECT_TRUE(g.InsertEdge(n[0], n[1]));
  EXPECT_TRUE(g.InsertEdge(n[0], n[1]));  // again: fine
  EXPECT_FALSE(g.InsertEdge(n[1], n[0]));
  EXPECT_FALSE(g.HasEdge(n[1], n[0]));  // a rejected edge is not added
  EXPECT_TRUE(g.HasEdge(n[0], n[1]));
  EXPECT_TRUE(g.CheckInvariants());
}

TEST(GraphCyclesTest, ReordersWhenAnEdgeGoesAgainstCreationOrder) {
  GraphCycles g;
  auto n = Nodes(g, 5);
  // 4 -> 3 -> 2 -> 1 -> 0 forces a full re-ranking, one edge at a time.
  for (int i = 4; i > 0; --i) {
    ASSERT_TRUE(g.InsertEdge(n[i], n[i - 1]));
    ASSERT_TRUE(g.CheckInvariants());
  }
  EXPECT_EQ(g.FindPath(n[4], n[0]), (std::vector<int>{4, 3, 2, 1, 0}));
  EXPECT_FALSE(g.InsertEdge(n[0], n[4]));
  EXPECT_FALSE(g.InsertEdge(n[2], n[3]));
  EXPECT_TRUE(g.InsertEdge(n[4], n[0]));  // a shortcut in the same direction is fine
  EXPECT_EQ(g.FindPath(n[4], n[0]), (std::vector<int>{4, 0}));  // shortest
  EXPECT_TRUE(g.CheckInvariants());
}

TEST(GraphCyclesTest, RemoveEdgeReopensTheOrder) {
  GraphCycles g;
  auto n = Nodes(g, 3);
  ASSERT_TRUE(g.InsertEdge(n[0], n[1]));
  ASSERT_TRUE(g.InsertEdge(n[1], n[2]));
  EXPECT_FALSE(g.InsertEdge(n[2], n[0]));
  g.RemoveEdge(n[1], n[2]);
  EXPECT_FALSE(g.HasEdge(n[1], n[2]));
  EXPECT_TRUE(g.InsertEdge(n[2], n[0]));
  EXPECT_TRUE(g.CheckInvariants());
  EXPECT_EQ(g.FindPath(n[2], n[1]), (std::vector<int>{2, 0, 1}));
  EXPECT_TRUE(g.FindPath(n[1], n[2]).empty());
  g.RemoveEdge(n[1], n[2]);  // absent: no effect
  EXPECT_TRUE(g.CheckInvariants());
}

TEST(GraphCyclesTest, FindPathToSelfAndUnreachable) {
  GraphCycles g;
  auto n = Nodes(g, 3);
  EXPECT_EQ(g.FindPath(n[1], n[1]), (std::vector<int>{1}));
  EXPECT_TRUE(g.FindPath(n[0], n[2]).empty());
  EXPECT_FALSE(g.IsReachable(n[0], n[2]));
}

// Against a brute-force model on a fixed random sequence (the property test runs many more).
TEST(GraphCyclesTest, AgreesWithDfsModel) {
  constexpr int kNodes = 12;
  GraphCycles g;
  Nodes(g, kNodes);
  std::vector<std::vector<bool>> adj(kNodes, std::vector<bool>(kNodes, false));
  auto reach = [&](int from, int to) {
    std::vector<bool> seen(kNodes, false);
    std::vector<int> stack{from};
    while (!stack.empty()) {
      int c = stack.back();
      stack.pop_back();
      if (c == to) return true;
      if (seen[c]) continue;
      seen[c] = true;
      for (int w = 0; w < kNodes; ++w) {
        if (adj[c][w]) stack.push_back(w);
      }
    }
    return false;
  };
  std::mt19937 rng(12345);
  for (int op = 0; op < 3000; ++op) {
    int a = static_cast<int>(rng() % kNodes), b = static_cast<int>(rng() % kNodes);
    if (rng() % 4 == 0) {
      g.RemoveEdge(a, b);
      adj[a][b] = false;
    } else {
      bool expect = !reach(b, a);
      ASSERT_EQ(g.InsertEdge(a, b), expect) << "op " << op << ": " << a << "->" << b;
      if (expect) adj[a][b] = true;
    }
    ASSERT_TRUE(g.CheckInvariants()) << "op " << op;
    int x = static_cast<int>(rng() % kNodes), y = static_cast<int>(rng() % kNodes);
    std::vector<int> path = g.FindPath(x, y);
    ASSERT_EQ(!path.empty(), reach(x, y));
    for (std::size_t i = 0; i + 1 < path.size(); ++i) ASSERT_TRUE(adj[path[i]][path[i + 1]]);
  }
}

TEST(GraphCyclesDeathTest, ForeignIdAborts) {
  GraphCycles g;
  g.NewNode();
  EXPECT_DEATH(g.InsertEdge(0, 7), "not from NewNode");
}

}  // namespace
}  // namespace lab
