// problems/catalogue.h: the catalogue of classic synchronization problems, correct and buggy.
//
// Every case is one program written once against the `lab::` facade (lab/sync/sync.h): outside an
// exploration it runs on real threads and primitives; under `lab::Explore` the controlled
// scheduler explores its interleavings. A case is named `problem/variant`
// ("producer_consumer/no_mutex"), states what the lab must find ("clean", or a finding kind of the
// vocabulary: "deadlock", "data-race", "starvation", ...), and carries the exploration budget
// within which that verdict is guaranteed by problems/catalogue_test.cc.
//
// Registration is explicit, with no static initialisers: each problem folder exposes
//   void Register<Problem>(Catalogue&);
// and problems/all.h calls them all (`problems::FullCatalogue()`).
//
//   problems::Catalogue cat = problems::FullCatalogue();
//   const problems::Case* c = cat.Find("dining_philosophers/naive");
//   c->body();   // one run on real threads (or under lab::Explore, see problems/runner.h)
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace problems {

// How a case is explored by default; every field can be overridden on the command line.
struct Exploration {
  std::string strategy = "pct";  // "random", "pct" or "dfs"
  int iterations = 200;          // schedules (executions) explored at most
  int depth = 3;                 // PCT bug depth (priority change points + 1); ignored otherwise
  std::uint64_t seed = 1;        // first seed; execution i uses a seed derived from it
  std::uint64_t max_steps = 0;   // steps per execution before livelock/hang; 0: the lab's default
  std::uint64_t starvation_bound = 0;  // steps without progress; 0: the lab's default
};

// The verdict a correct case must produce.
inline constexpr std::string_view kClean = "clean";

struct Case {
  std::string name;         // "problem/variant", lower_snake_case on both sides
  std::string expected;     // kClean or a finding kind ("deadlock", "data-race", ...)
  // Other kinds under which the lab may report this same bug, depending on the schedule (a
  // notification spent too early is a `deadlock` where one sent to nobody is a `lost-wakeup`).
  std::vector<std::string> also_accepted = {};
  std::string description;  // one line: what this variant does
  std::string explanation;  // a few sentences: the bug, why it happens, the fix (or why it is right)
  std::string doc;          // the page that teaches it, "docs/problems/<problem>.md"
  Exploration exploration;
  std::function<void()> body;  // one run of the program; must be repeatable

  std::string_view problem() const;  // "producer_consumer"
  std::string_view variant() const;  // "no_mutex"
  bool buggy() const { return expected != kClean; }
  // True when `verdict` is what this case should produce.
  bool Accepts(std::string_view verdict) const;
};

class Catalogue {
 public:
  // Adds a case. Dies (with a message) on a malformed or duplicate name, or a missing body: the
  // catalogue is code, and such a mistake is a programming error caught by every test.
  void Add(Case c);

  std::span<const Case> cases() const { return cases_; }
  // The case named exactly `name`, or nullptr.
  const Case* Find(std::string_view name) const;
  // The cases whose name starts with `prefix` ("dining_philosophers" or "dining_philosophers/").
  std::vector<const Case*> Matching(std::string_view prefix) const;
  // Up to `n` names nearest to `name` (edit distance, then common prefix), for "did you mean".
  std::vector<std::string> Nearest(std::string_view name, std::size_t n = 3) const;

 private:
  std::vector<Case> cases_;
};

// Levenshtein distance; exposed for tests.
std::size_t EditDistance(std::string_view a, std::string_view b);

// The finding kinds of the shared vocabulary (design.md), plus "clean".
bool IsKnownVerdict(std::string_view verdict);

}  // namespace problems
