// properties/scenario.h: a concurrent scenario for lincheck, what threads run which operations,
// and its one-line text form so a failure can be rerun exactly.
//
// Text form: threads separated by " | ", operations by spaces, arguments as in a call:
//
//   push(1) pop() | size() | push(2)        thread 0 pushes 1 then pops; thread 1 asks the size; ...
//
// An argument is an integer, true/false, empty, or a double-quoted string ("a b", with \" and \\).
// Parse(ToString(s)) == s for every scenario.
#pragma once

#include <cstddef>
#include <expected>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "properties/linearizability.h"

namespace properties {

struct Scenario {
  // threads[t][k]: the k-th operation of thread t (name and arguments only).
  std::vector<std::vector<Operation>> threads;

  size_t operation_count() const;
  std::string ToString() const;
  // One line that says what went wrong and how a scenario is written, on bad input.
  static std::expected<Scenario, std::string> Parse(std::string_view text);

  friend bool operator==(const Scenario& a, const Scenario& b);
};

// How rapidcheck prints a scenario in a counterexample (found by argument-dependent lookup).
void showValue(const Scenario& s, std::ostream& os);

// An argument in the text form (strings quoted).
std::string FormatArgument(const Value& v);

}  // namespace properties
