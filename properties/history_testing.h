// properties/history_testing.h (testonly): histories made by running a model, for testing the
// checker against ground truth.
//
// AtomicHistory runs each thread's script against the model itself, every operation taking effect
// atomically at one clock tick strictly inside its [invoke, response] interval; which thread moves
// next comes from `pick(n)` (a number in [0, n)). Every history it makes is linearizable by
// construction, and `order` (if given) receives the order in which operations took effect.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "properties/linearizability.h"

namespace properties::testing {

// Thread t's operations, in order (name and args; results and times are filled in).
using Scripts = std::vector<std::vector<Operation>>;

template <typename State, typename Hash>
History AtomicHistory(const Model<State, Hash>& model, const Scripts& scripts,
                      const std::function<size_t(size_t)>& pick,
                      std::vector<size_t>* order = nullptr) {
  enum Phase { kIdle, kInvoked, kApplied };
  struct Cursor {
    size_t next = 0;
    Phase phase = kIdle;
    size_t index = 0;  // in the history, once invoked
  };
  History history;
  std::vector<Cursor> cursors(scripts.size());
  // A partitioned model keeps one state per key, each starting from `initial`.
  std::map<std::string, State> states;
  auto state_of = [&](const Operation& op) -> State& {
    std::string key = model.partition ? model.partition(op) : "";
    return states.try_emplace(key, model.initial).first->second;
  };
  Clock clock = 0;
  for (;;) {
    std::vector<size_t> active;
    for (size_t t = 0; t < scripts.size(); ++t) {
      if (cursors[t].next < scripts[t].size()) active.push_back(t);
    }
    if (active.empty()) break;
    size_t t = active[pick(active.size())];
    Cursor& c = cursors[t];
    switch (c.phase) {
      case kIdle: {
        Operation op = scripts[t][c.next];
        op.thread = static_cast<int>(t);
        op.invoke = clock++;
        c.index = history.size();
        history.push_back(std::move(op));
        c.phase = kInvoked;
        break;
      }
      case kInvoked: {
        State& state = state_of(history[c.index]);
        Step<State> s = model.step(state, history[c.index]);
        history[c.index].result = std::move(s.result);
        state = std::move(s.next);
        if (order) order->push_back(c.index);
        ++clock;
        c.phase = kApplied;
        break;
      }
      case kApplied:
        history[c.index].response = clock++;
        c.phase = kIdle;
        ++c.next;
        break;
    }
  }
  return history;
}

inline Operation Call(std::string name, std::vector<Value> args = {}) {
  Operation op;
  op.name = std::move(name);
  op.args = std::move(args);
  return op;
}

// A complete operation for hand-written histories.
inline Operation Op(int thread, std::string name, std::vector<Value> args, Value result,
                    Clock invoke, Clock response) {
  Operation op = Call(std::move(name), std::move(args));
  op.thread = thread;
  op.result = std::move(result);
  op.invoke = invoke;
  op.response = response;
  return op;
}

}  // namespace properties::testing
