// properties/linearizability_command.h: `ipclab linearizable`, the checker on a recorded history.
//
//   ipclab linearizable --model queue history.json [--json] [--max-steps N]
//
// history.json is an array of operations (or {"operations": [...]}), each
//   {"thread": 0, "op": "push", "args": [1], "result": null, "invoke": 3, "response": 7}
// `result` may be omitted for a void operation; the string "empty" is the empty result (a pop of an
// empty queue, a get of an absent key); `response` absent or null means the operation never
// returned. Models: register, counter, queue, stack, map (properties/models.h).
// Exit status: 0 linearizable, 1 nonlinearizable (the explanation is printed), 2 usage error,
// unreadable or malformed history, or no verdict within the search bound (one line says which).
#pragma once

#include <expected>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "properties/linearizability.h"

namespace properties {

std::function<int()> SetupLinearizableCommand(CLI::App& sub);

// Parses the history format above; the error names the operation and the field.
std::expected<History, std::string> HistoryFromJson(const nlohmann::json& j);
nlohmann::json HistoryToJson(const History& h);

}  // namespace properties
