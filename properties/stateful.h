// properties/stateful.h: running rc::state command sequences, and the check every planted twin
// makes (the model-based property fails on it, with a shrunk sequence of at most N commands).
//
//   RC_GTEST_PROP(PipeModel, IsAByteQueue, ()) {
//     properties::RunCommands<Send, Receive>(PipeModel{}, [] { return RealPipe(); });
//   }
//   TEST(PipeModel, FindsPlantedBug) {
//     properties::ExpectCaughtAndShrunk("planted lost boundary", 3, [] {
//       properties::RunCommands<Send, Receive>(PipeModel{}, [] { return PlantedPipe(); });
//     });
//   }
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstddef>
#include <iostream>
#include <string>

namespace properties {

// The length of the last command sequence that failed inside RunCommands (0: none yet).
inline std::size_t g_last_failing_length = 0;

// Generates a sequence of `Cmds` (each drawn with rc::state::gen::execOneOfWithArgs, so listing a
// command twice doubles its weight) from `model`, builds the system under test with `make()`
// (after the generation, so a discarded sequence costs no IPC object) and runs the sequence.
template <class... Cmds, class Model, class MakeSut>
void RunCommands(const Model& model, MakeSut make) {
  auto cmds = *rc::state::gen::commands(model, rc::state::gen::execOneOfWithArgs<Cmds...>());
  auto sut = make();
  try {
    rc::state::runAll(cmds, model, sut);
  } catch (...) {
    g_last_failing_length = cmds.size();
    throw;
  }
}

// Checks `property` (RunCommands on a planted twin): it must fail, and rapidcheck must have
// shrunk the failure to at most `max_commands` commands.
template <class Property>
void ExpectCaughtAndShrunk(const std::string& what, std::size_t max_commands, Property property) {
  g_last_failing_length = 0;
  bool passed = rc::check(what, property);
  EXPECT_FALSE(passed) << "the property missed the planted bug: " << what;
  std::cout << "shrunk counterexample: " << g_last_failing_length << " commands\n";
  EXPECT_GT(g_last_failing_length, 0u);
  EXPECT_LE(g_last_failing_length, max_commands) << "counterexample not shrunk";
}

}  // namespace properties
