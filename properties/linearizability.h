// properties/linearizability.h: decides whether a concurrent history is linearizable with respect
// to a sequential model, and explains why when it is not.
//
// A history is a set of operations, each with the thread that ran it, its name, arguments and
// result, and the interval [invoke, response] on some clock (the lab's step counter, a logical
// counter, nanoseconds: any monotonic clock shared by the threads). The history is linearizable if
// the operations can be put in one sequential order that (a) respects real time: an operation that
// responded before another was invoked comes first, and (b) the model, run in that order, gives
// every operation the result it really returned (Herlihy & Wing 1990).
//
// The search is Wing & Gong's, in the form of Lowe's "just-in-time linearization" with the
// memoization Porcupine uses: a partial linearization is the set of operations already placed plus
// the model state they lead to, and a (set, state) pair seen once is never explored again. Model
// states are interned (hashed), so the cache holds small integers, and every (state, operation)
// step is computed once.
//
//   properties::Model<std::deque<int64_t>> queue{
//       .name = "fifo queue",
//       .initial = {},
//       .step = [](const std::deque<int64_t>& q, const properties::Operation& op)
//           -> properties::Step<std::deque<int64_t>> {
//         auto next = q;
//         if (op.name == "push") { next.push_back(op.Arg(0)); return {{}, next}; }
//         if (q.empty()) return {properties::Empty{}, next};
//         next.pop_front();
//         return {q.front(), next};
//       },
//   };
//   properties::CheckResult r = properties::CheckLinearizable(history, queue);
//   if (!r.ok()) std::cerr << r.explanation;   // the history table and where the search stuck
//
// Equal times count as overlapping (an operation invoked at the instant another responded may be
// ordered either way). An operation without a response (its thread crashed, hung, or the execution
// was cut short) may or may not have taken effect, with any result.
//
// P-compositionality (Herlihy & Wing's locality): when a model's operations on different keys are
// independent (a map, a set of registers), `Model::partition` names each operation's key and the
// history is checked one key at a time, which turns one exponential search into several small ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace properties {

// The result of an operation that found nothing (a pop from an empty queue). Prints as "empty".
struct Empty {
  friend bool operator==(Empty, Empty) = default;
};

// An argument or a result. std::monostate is "no value" (the result of a void operation, printed
// as nothing at all: `push(1)`).
using Value = std::variant<std::monostate, bool, std::int64_t, std::string, Empty>;

std::string FormatValue(const Value& v);

// A point on the history's clock.
using Clock = std::uint64_t;

struct Operation {
  int thread = 0;
  std::string name;
  std::vector<Value> args;
  Value result;
  Clock invoke = 0;
  // nullopt: the operation never returned (pending); it may or may not have taken effect.
  std::optional<Clock> response;

  // The i-th argument as an integer (0 if absent or not an integer): the common case in models.
  std::int64_t Arg(size_t i) const;
  bool completed() const { return response.has_value(); }
};

using History = std::vector<Operation>;

// "push(1)", "pop() -> 3", "get(k) -> empty"; a pending operation ends with " -> ?".
std::string FormatCall(const Operation& op);
std::string FormatOperation(const Operation& op);

// What the model says one operation returns from `state`, and the state after it.
template <typename State>
struct Step {
  Value result;
  State next;
};

// A sequential specification. `State` must be copyable, equality-comparable and hashable by
// `Hash`; keep it small (the search holds every distinct state it reaches).
template <typename State, typename Hash = std::hash<State>>
struct Model {
  std::string name;
  State initial{};
  // Must be a function of (state, operation name and arguments): deterministic, no side effects.
  std::function<Step<State>(const State&, const Operation&)> step;
  // Optional: how a state prints in reports ("[1, 2]"). Without it, states print as "#<n>".
  std::function<std::string(const State&)> describe;
  // Optional: P-compositionality. Operations with different keys never affect each other's
  // results; each key's sub-history is checked separately from `initial`.
  std::function<std::string(const Operation&)> partition;
};

struct CheckOptions {
  // Bound on the search: partial linearizations tried (summed over partitions). Past it the
  // verdict is kUnknown. 6 threads x 4 operations needs a few thousand at most with memoization.
  std::uint64_t max_search_steps = 5'000'000;
  // Memoize (set, state) pairs. Off only to measure what memoization buys.
  bool memoize = true;
};

enum class Verdict {
  kLinearizable,
  kNotLinearizable,
  kUnknown,    // the search bound was reached first
  kMalformed,  // a response before its invoke, a thread with overlapping operations, or an
               // operation the model does not have
};
std::string_view VerdictName(Verdict v);

// At the point where the search got furthest, one operation the model was asked to place next and
// what it would have returned.
struct Candidate {
  size_t op = 0;          // index into the history
  Value expected;         // what the model returns from the state reached
  bool matches = false;   // expected == the observed result (then the order through it was
                          // already explored and failed further on)
};

struct CheckResult {
  Verdict verdict = Verdict::kUnknown;
  // kLinearizable: a witness order (indices into the history), pending operations that took
  // effect included. Otherwise: the longest linearizable prefix the search found, in the order of
  // the failing partition.
  std::vector<size_t> order;
  // kNotLinearizable: the operation whose response came before any order could place it (with the
  // prefix above applied), and what the model said about each operation that could go next.
  std::optional<size_t> blocked;
  std::vector<Candidate> candidates;
  std::string state_after_prefix;  // describe(state) after `order` (failures)
  std::string partition;           // the key of the failing partition, when partitioned
  std::uint64_t search_steps = 0;
  std::uint64_t distinct_states = 0;  // model states interned
  std::uint64_t memo_entries = 0;     // (set, state) pairs remembered
  // For humans: the verdict, the history as a table of threads x operations, and for a failure
  // the longest linearizable prefix and the operation that cannot be placed.
  std::string explanation;

  bool ok() const { return verdict == Verdict::kLinearizable; }
};

// The history as a table: one column per thread, one row per operation of that thread, each cell
// `call -> result [invoke,response]`. Operations listed in `marks` get the mark after their cell
// (e.g. "<- cannot be placed").
std::string FormatHistoryTable(const History& history,
                               const std::unordered_map<size_t, std::string>& marks = {});

namespace internal {

using StateId = std::uint32_t;

// The model with its states replaced by interned ids; CheckLinearizable builds one.
struct ErasedModel {
  std::string name;
  StateId initial = 0;
  std::function<std::pair<Value, StateId>(StateId, const Operation&)> step;
  std::function<std::string(StateId)> describe;
  std::function<std::string(const Operation&)> partition;
  std::function<std::uint64_t()> state_count;
};

CheckResult Check(const History& history, const ErasedModel& model, const CheckOptions& options);

}  // namespace internal

template <typename State, typename Hash>
CheckResult CheckLinearizable(const History& history, const Model<State, Hash>& model,
                              const CheckOptions& options = {}) {
  std::vector<State> states;
  std::unordered_map<State, internal::StateId, Hash> ids;
  auto intern = [&](const State& s) -> internal::StateId {
    auto [it, inserted] = ids.try_emplace(s, static_cast<internal::StateId>(states.size()));
    if (inserted) states.push_back(s);
    return it->second;
  };
  internal::ErasedModel erased;
  erased.name = model.name;
  erased.initial = intern(model.initial);
  erased.step = [&](internal::StateId id, const Operation& op) {
    Step<State> s = model.step(states[id], op);
    return std::pair<Value, internal::StateId>(std::move(s.result), intern(s.next));
  };
  erased.describe = [&](internal::StateId id) {
    return model.describe ? model.describe(states[id]) : "#" + std::to_string(id);
  };
  erased.partition = model.partition;
  erased.state_count = [&] { return static_cast<std::uint64_t>(states.size()); };
  return internal::Check(history, erased, options);
}

}  // namespace properties
