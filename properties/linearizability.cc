#include "properties/linearizability.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <unordered_set>

#include <fmt/format.h>

namespace properties {

std::string FormatValue(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(Empty) const { return "empty"; }
  };
  return std::visit(Visitor{}, v);
}

std::int64_t Operation::Arg(size_t i) const {
  if (i >= args.size()) return 0;
  if (const auto* p = std::get_if<std::int64_t>(&args[i])) return *p;
  return 0;
}

std::string FormatCall(const Operation& op) {
  std::string s = op.name + "(";
  for (size_t i = 0; i < op.args.size(); ++i) {
    if (i) s += ", ";
    s += FormatValue(op.args[i]);
  }
  return s + ")";
}

std::string FormatOperation(const Operation& op) {
  std::string s = FormatCall(op);
  if (!op.completed()) return s + " -> ?";
  if (!std::holds_alternative<std::monostate>(op.result)) s += " -> " + FormatValue(op.result);
  return s;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kLinearizable: return "linearizable";
    case Verdict::kNotLinearizable: return "nonlinearizable";
    case Verdict::kUnknown: return "unknown (search bound reached)";
    case Verdict::kMalformed: return "malformed history";
  }
  return "?";
}

namespace {

std::string Interval(const Operation& op) {
  return op.response ? fmt::format("[{},{}]", op.invoke, *op.response)
                     : fmt::format("[{},-]", op.invoke);
}

std::string Who(const Operation& op) { return fmt::format("T{} {}", op.thread, FormatOperation(op)); }

// Each thread's operations in invocation order.
std::map<int, std::vector<size_t>> ByThread(const History& history) {
  std::map<int, std::vector<size_t>> threads;
  for (size_t i = 0; i < history.size(); ++i) threads[history[i].thread].push_back(i);
  for (auto& [t, ops] : threads) {
    // std::sort with the index as tie-break (libstdc++ 12's stable_sort warns under C++23).
    std::sort(ops.begin(), ops.end(), [&](size_t a, size_t b) {
      return std::tie(history[a].invoke, a) < std::tie(history[b].invoke, b);
    });
  }
  return threads;
}

std::string Validate(const History& history) {
  for (const auto& [thread, ops] : ByThread(history)) {
    for (size_t k = 0; k < ops.size(); ++k) {
      const Operation& op = history[ops[k]];
      if (op.response && *op.response < op.invoke) {
        return fmt::format("T{} {} responds at {} before its invoke at {}", thread, FormatCall(op),
                           *op.response, op.invoke);
      }
      if (k + 1 < ops.size()) {
        const Operation& next = history[ops[k + 1]];
        if (!op.response) {
          return fmt::format("T{} {} never returned but the thread went on to {}", thread,
                             FormatCall(op), FormatCall(next));
        }
        if (*op.response > next.invoke) {
          return fmt::format("T{} {} {} overlaps the same thread's {} {}", thread, FormatCall(op),
                             Interval(op), FormatCall(next), Interval(next));
        }
      }
    }
  }
  return "";
}

// One partition's search: Lowe's just-in-time linearization over a doubly linked list of call and
// return entries, with (linearized set, state) memoization.
class Search {
 public:
  Search(const History& history, const std::vector<size_t>& ops,
         const internal::ErasedModel& model, const CheckOptions& options, std::uint64_t budget)
      : history_(history), ops_(ops), model_(model), options_(options), budget_(budget) {
    BuildList();
  }

  Verdict Run() {
    const size_t n = ops_.size();
    std::vector<std::uint64_t> bits((n + 63) / 64, 0);
    auto flip = [&](size_t local) { bits[local / 64] ^= std::uint64_t{1} << (local % 64); };
    size_t remaining = 0;
    for (size_t i = 0; i < n; ++i) remaining += Op(i).completed() ? 1 : 0;

    struct Frame {
      int node;
      internal::StateId before;
    };
    std::vector<Frame> calls;
    internal::StateId state = model_.initial;
    int entry = nodes_[0].next;
    while (remaining > 0) {
      if (++steps_ > budget_) return Verdict::kUnknown;
      if (entry >= 0 && nodes_[entry].is_call) {
        const Node& e = nodes_[entry];
        const Operation& op = Op(e.local);
        const StepEntry& step = StepOf(state, e.local);
        if (step.matches) {
          flip(e.local);
          if (!options_.memoize || Remember(bits, step.next)) {
            calls.push_back({entry, state});
            state = step.next;
            if (op.completed()) --remaining;
            Lift(entry);
            entry = nodes_[0].next;
            continue;
          }
          flip(e.local);
        }
        entry = e.next;
        continue;
      }
      // A return entry (or the end of the list): its operation had to be placed by now.
      if (static_cast<std::int64_t>(calls.size()) > best_depth_) Record(calls.size(), entry, state, calls);
      if (calls.empty()) return Verdict::kNotLinearizable;
      Frame f = calls.back();
      calls.pop_back();
      state = f.before;
      flip(nodes_[f.node].local);
      if (Op(nodes_[f.node].local).completed()) ++remaining;
      Unlift(f.node);
      entry = nodes_[f.node].next;
    }
    witness_.clear();
    for (const Frame& f : calls) witness_.push_back(ops_[nodes_[f.node].local]);
    return Verdict::kLinearizable;
  }

  std::uint64_t steps() const { return steps_; }
  std::uint64_t memo_entries() const { return memo_.size() + small_memo_.size(); }
  const std::vector<size_t>& witness() const { return witness_; }
  const std::vector<size_t>& best_prefix() const { return best_prefix_; }
  std::optional<size_t> blocked() const { return blocked_; }
  const std::vector<Candidate>& candidates() const { return candidates_; }
  const std::string& state_after_prefix() const { return state_after_; }

 private:
  struct Node {
    size_t local = 0;
    bool is_call = false;
    int match = -1;  // a call's return entry; -1 for a pending operation
    int prev = -1;
    int next = -1;
  };

  const Operation& Op(size_t local) const { return history_[ops_[local]]; }

  void BuildList() {
    struct Event {
      Clock time;
      int kind;  // 0 call, 1 return: at equal times calls first, so such operations overlap
      size_t local;
    };
    std::vector<Event> events;
    for (size_t i = 0; i < ops_.size(); ++i) {
      events.push_back({Op(i).invoke, 0, i});
      if (Op(i).response) events.push_back({*Op(i).response, 1, i});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return std::tie(a.time, a.kind, a.local) < std::tie(b.time, b.kind, b.local);
    });
    nodes_.resize(events.size() + 1);  // node 0 is the head sentinel
    std::vector<int> call_node(ops_.size(), -1);
    for (size_t k = 0; k < events.size(); ++k) {
      int id = static_cast<int>(k + 1);
      Node& n = nodes_[id];
      n.local = events[k].local;
      n.is_call = events[k].kind == 0;
      n.prev = id - 1;
      n.next = k + 1 < events.size() ? id + 1 : -1;
      if (n.is_call) {
        call_node[n.local] = id;
      } else {
        nodes_[call_node[n.local]].match = id;
      }
    }
    nodes_[0].next = events.empty() ? -1 : 1;
  }

  void Unlink(int id) {
    Node& n = nodes_[id];
    nodes_[n.prev].next = n.next;
    if (n.next >= 0) nodes_[n.next].prev = n.prev;
  }
  void Relink(int id) {
    Node& n = nodes_[id];
    nodes_[n.prev].next = id;
    if (n.next >= 0) nodes_[n.next].prev = id;
  }
  void Lift(int call) {
    Unlink(call);
    if (nodes_[call].match >= 0) Unlink(nodes_[call].match);
  }
  void Unlift(int call) {
    if (nodes_[call].match >= 0) Relink(nodes_[call].match);
    Relink(call);
  }

  struct StepEntry {
    Value expected;
    internal::StateId next;
    bool matches;  // the observed result is the expected one (always, for a pending operation)
  };

  // Every (state, operation) step is asked of the model once.
  const StepEntry& StepOf(internal::StateId state, size_t local) {
    std::uint64_t key = (std::uint64_t{state} << 32) | local;
    auto it = step_cache_.find(key);
    if (it == step_cache_.end()) {
      const Operation& op = Op(local);
      auto [expected, next] = model_.step(state, op);
      bool matches = !op.completed() || expected == op.result;
      it = step_cache_.emplace(key, StepEntry{std::move(expected), next, matches}).first;
    }
    return it->second;
  }

  // Remembers a (linearized set, state) pair; false if it was seen before. Up to 64 operations the
  // key is two words; beyond, the set's words and the state as bytes.
  bool Remember(const std::vector<std::uint64_t>& bits, internal::StateId state) {
    if (bits.size() == 1) return small_memo_.insert({bits[0], state}).second;
    std::string key(reinterpret_cast<const char*>(bits.data()), bits.size() * sizeof(bits[0]));
    key.append(reinterpret_cast<const char*>(&state), sizeof(state));
    return memo_.insert(std::move(key)).second;
  }

  template <typename Frames>
  void Record(size_t depth, int entry, internal::StateId state, const Frames& calls) {
    best_depth_ = static_cast<std::int64_t>(depth);
    best_prefix_.clear();
    for (const auto& f : calls) best_prefix_.push_back(ops_[nodes_[f.node].local]);
    blocked_.reset();
    if (entry >= 0) blocked_ = ops_[nodes_[entry].local];
    candidates_.clear();
    for (int id = nodes_[0].next; id >= 0 && id != entry; id = nodes_[id].next) {
      if (!nodes_[id].is_call) continue;
      const StepEntry& step = StepOf(state, nodes_[id].local);
      candidates_.push_back({ops_[nodes_[id].local], step.expected, step.matches});
    }
    state_after_ = model_.describe ? model_.describe(state) : "";
  }

  const History& history_;
  const std::vector<size_t>& ops_;
  const internal::ErasedModel& model_;
  const CheckOptions& options_;
  std::uint64_t budget_;
  std::vector<Node> nodes_;
  struct PairHash {
    size_t operator()(const std::pair<std::uint64_t, internal::StateId>& p) const {
      return std::hash<std::uint64_t>{}(p.first * 0x9E3779B97F4A7C15ull ^ p.second);
    }
  };
  std::unordered_map<std::uint64_t, StepEntry> step_cache_;
  std::unordered_set<std::pair<std::uint64_t, internal::StateId>, PairHash> small_memo_;
  std::unordered_set<std::string> memo_;
  std::uint64_t steps_ = 0;
  std::vector<size_t> witness_;
  std::int64_t best_depth_ = -1;
  std::vector<size_t> best_prefix_;
  std::optional<size_t> blocked_;
  std::vector<Candidate> candidates_;
  std::string state_after_;
};

std::string ExplainFailure(const History& history, const internal::ErasedModel& model,
                           const CheckResult& r, size_t partition_size) {
  std::string out = fmt::format("nonlinearizable: no sequential order of the {} model explains "
                                "this history ({} operations",
                                model.name, history.size());
  if (!r.partition.empty()) {
    out += fmt::format("; checked per key, key {} fails with {} of them", r.partition,
                       partition_size);
  }
  out += ")\n\n";
  std::unordered_map<size_t, std::string> marks;
  for (size_t k = 0; k < r.order.size(); ++k) marks[r.order[k]] = fmt::format("(prefix {})", k + 1);
  if (r.blocked) marks[*r.blocked] = "<- cannot be placed";
  out += FormatHistoryTable(history, marks);
  out += fmt::format("\nlongest linearizable prefix: {} of {} operations\n", r.order.size(),
                     partition_size);
  for (size_t k = 0; k < r.order.size(); ++k) {
    out += fmt::format("  {:>2}. {}\n", k + 1, Who(history[r.order[k]]));
  }
  if (!r.state_after_prefix.empty()) {
    out += fmt::format("  model state after it: {}\n", r.state_after_prefix);
  }
  if (r.blocked) {
    const Operation& b = history[*r.blocked];
    out += fmt::format(
        "then {} must take effect before it responds at {}, but no operation can go next:\n",
        Who(b), *b.response);
    for (const Candidate& c : r.candidates) {
      const Operation& op = history[c.op];
      std::string what =
          c.matches ? "fits, but every order through it fails later"
                    : fmt::format("the model returns {}",
                                  std::holds_alternative<std::monostate>(c.expected)
                                      ? std::string("nothing")
                                      : FormatValue(c.expected));
      out += fmt::format("    {:<28} {}\n", Who(op), what);
    }
  }
  out += fmt::format("search: {} steps, {} model states, {} (set, state) pairs memoized\n",
                     r.search_steps, r.distinct_states, r.memo_entries);
  return out;
}

}  // namespace

std::string FormatHistoryTable(const History& history,
                               const std::unordered_map<size_t, std::string>& marks) {
  auto threads = ByThread(history);
  std::vector<std::vector<std::string>> columns;
  std::vector<std::string> headers;
  size_t rows = 0;
  for (const auto& [thread, ops] : threads) {
    headers.push_back(fmt::format("thread {}", thread));
    std::vector<std::string> cells;
    for (size_t i : ops) {
      std::string cell = fmt::format("{} {}", FormatOperation(history[i]), Interval(history[i]));
      if (auto it = marks.find(i); it != marks.end()) cell += " " + it->second;
      cells.push_back(std::move(cell));
    }
    rows = std::max(rows, cells.size());
    columns.push_back(std::move(cells));
  }
  std::vector<size_t> width(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    width[c] = headers[c].size();
    for (const auto& cell : columns[c]) width[c] = std::max(width[c], cell.size());
  }
  std::string out = "      ";
  for (size_t c = 0; c < columns.size(); ++c) out += fmt::format(" | {:<{}}", headers[c], width[c]);
  while (out.back() == ' ') out.pop_back();
  out += "\n";
  out += "  ----";
  for (size_t c = 0; c < columns.size(); ++c) out += "-+-" + std::string(width[c], '-');
  out += "\n";
  for (size_t r = 0; r < rows; ++r) {
    std::string line = fmt::format("  {:>4}", fmt::format("#{}", r + 1));
    for (size_t c = 0; c < columns.size(); ++c) {
      line += fmt::format(" | {:<{}}", r < columns[c].size() ? columns[c][r] : "", width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace internal {
namespace {

CheckResult CheckValid(const History& history, const ErasedModel& model, const CheckOptions& options) {
  CheckResult result;
  if (std::string problem = Validate(history); !problem.empty()) {
    result.verdict = Verdict::kMalformed;
    result.explanation = "malformed history: " + problem + "\n" + FormatHistoryTable(history);
    return result;
  }
  // Partitions in order of first appearance, so reports are stable.
  std::vector<std::string> keys;
  std::unordered_map<std::string, std::vector<size_t>> parts;
  for (size_t i = 0; i < history.size(); ++i) {
    std::string key = model.partition ? model.partition(history[i]) : "";
    auto [it, inserted] = parts.try_emplace(key);
    if (inserted) keys.push_back(key);
    it->second.push_back(i);
  }
  std::uint64_t used = 0;
  result.verdict = Verdict::kLinearizable;
  for (const std::string& key : keys) {
    const std::vector<size_t>& ops = parts[key];
    Search search(history, ops, model, options,
                  options.max_search_steps > used ? options.max_search_steps - used : 0);
    Verdict v = search.Run();
    used += search.steps();
    result.search_steps = used;
    result.memo_entries += search.memo_entries();
    result.distinct_states = model.state_count ? model.state_count() : 0;
    if (v == Verdict::kLinearizable) {
      result.order.insert(result.order.end(), search.witness().begin(), search.witness().end());
      continue;
    }
    result.verdict = v;
    result.partition = key;
    if (v == Verdict::kUnknown) {
      result.explanation = fmt::format(
          "unknown: the search bound of {} steps was reached before a verdict on the {} model "
          "({} operations{})\n{}",
          options.max_search_steps, model.name, history.size(),
          key.empty() ? "" : ", key " + key, FormatHistoryTable(history));
      return result;
    }
    result.order = search.best_prefix();
    result.blocked = search.blocked();
    result.candidates = search.candidates();
    result.state_after_prefix = search.state_after_prefix();
    result.explanation = ExplainFailure(history, model, result, ops.size());
    return result;
  }
  std::string witness;
  for (size_t k = 0; k < result.order.size(); ++k) {
    witness += fmt::format("{}{}", k ? ", " : "", Who(history[result.order[k]]));
  }
  result.explanation = fmt::format("linearizable against the {} model{}: {}\n", model.name,
                                   keys.size() > 1 ? " (per key)" : "", witness);
  return result;
}

}  // namespace

CheckResult Check(const History& history, const ErasedModel& model, const CheckOptions& options) {
  // A model throws std::logic_error for an operation it does not have (a history read from a file
  // may name any): that is a malformed history, not a crash of `ipclab linearizable`.
  try {
    return CheckValid(history, model, options);
  } catch (const std::logic_error& e) {
    CheckResult result;
    result.verdict = Verdict::kMalformed;
    result.explanation = fmt::format("malformed history: {}\n{}", e.what(), FormatHistoryTable(history));
    return result;
  }
}

}  // namespace internal
}  // namespace properties
