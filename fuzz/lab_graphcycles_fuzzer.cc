// Fuzzes GraphCycles against a brute-force model. The input is a program over at most 16 nodes:
// each byte pair is one operation (high bit of the first byte: remove, else insert; the low
// nibbles name the endpoints). After each operation the graph must agree with an adjacency
// matrix searched depth-first, keep its ranks topological, and return only real paths.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lab/detect/graphcycles.h"

namespace {

constexpr int kNodes = 16;

bool Reaches(const bool (&adj)[kNodes][kNodes], int from, int to) {
  bool seen[kNodes] = {};
  int stack[kNodes * kNodes + 1];
  int top = 0;
  stack[top++] = from;
  while (top > 0) {
    int c = stack[--top];
    if (c == to) return true;
    if (seen[c]) continue;
    seen[c] = true;
    for (int w = 0; w < kNodes; ++w) {
      if (adj[c][w] && !seen[w]) stack[top++] = w;
    }
  }
  return false;
}

[[noreturn]] void Fail(const char* what, int a, int b) {
  (void)std::fprintf(stderr, "GraphCycles disagrees with the model: %s (%d, %d)\n", what, a, b);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lab::GraphCycles graph;
  for (int i = 0; i < kNodes; ++i) graph.NewNode();
  bool adj[kNodes][kNodes] = {};
  for (size_t i = 0; i + 1 < size; i += 2) {
    const bool remove = (data[i] & 0x80) != 0;
    const int a = data[i] & 0x0F;
    const int b = data[i + 1] & 0x0F;
    if (remove) {
      graph.RemoveEdge(a, b);
      adj[a][b] = false;
    } else {
      const bool acyclic = a != b && !Reaches(adj, b, a);
      if (graph.InsertEdge(a, b) != acyclic) Fail("InsertEdge", a, b);
      if (acyclic) adj[a][b] = true;
    }
    if (!graph.CheckInvariants()) Fail("invariants", a, b);
    // One path query per operation, between the nodes the second byte's high nibble names.
    const int x = (data[i + 1] >> 4) & 0x0F;
    std::vector<int> path = graph.FindPath(x, a);
    if (path.empty() != !Reaches(adj, x, a)) Fail("FindPath", x, a);
    for (size_t k = 0; k + 1 < path.size(); ++k) {
      if (!adj[path[k]][path[k + 1]]) Fail("FindPath edge", path[k], path[k + 1]);
    }
  }
  return 0;
}
