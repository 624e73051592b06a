#include "properties/linearizability_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "properties/models.h"

namespace properties {
namespace {

std::expected<Value, std::string> ValueFromJson(const nlohmann::json& j, bool is_result) {
  if (j.is_null()) return Value{};
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<std::int64_t>());
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (is_result && s == "empty") return Value(Empty{});
    return Value(std::move(s));
  }
  return std::unexpected(fmt::format("a value must be null, a boolean, an integer or a string, not {}",
                                     j.dump()));
}

nlohmann::json ValueToJson(const Value& v) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool b) const { return b; }
    nlohmann::json operator()(std::int64_t i) const { return i; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(Empty) const { return "empty"; }
  };
  return std::visit(Visitor{}, v);
}

template <typename M>
CheckResult CheckWith(const History& h, const M& model, const CheckOptions& o) {
  return CheckLinearizable(h, model, o);
}

std::expected<CheckResult, std::string> CheckNamed(const std::string& model, const History& h,
                                                   const CheckOptions& o) {
  if (model == "register") return CheckWith(h, RegisterModel(), o);
  if (model == "counter") return CheckWith(h, CounterModel(), o);
  if (model == "queue") return CheckWith(h, QueueModel(), o);
  if (model == "stack") return CheckWith(h, StackModel(), o);
  if (model == "map") return CheckWith(h, MapModel(), o);
  return std::unexpected("unknown model '" + model + "' (valid: register, counter, queue, stack, map)");
}

}  // namespace

std::expected<History, std::string> HistoryFromJson(const nlohmann::json& j) {
  const nlohmann::json* ops = &j;
  if (j.is_object() && j.contains("operations")) ops = &j["operations"];
  if (!ops->is_array()) return std::unexpected("a history is a JSON array of operations (or {\"operations\": [...]})");
  History h;
  for (size_t i = 0; i < ops->size(); ++i) {
    const nlohmann::json& o = (*ops)[i];
    auto fail = [&](const std::string& what) {
      return std::unexpected(fmt::format("operation {}: {}", i, what));
    };
    if (!o.is_object()) return fail("must be an object");
    Operation op;
    if (!o.contains("thread") || !o["thread"].is_number_integer()) return fail("needs an integer \"thread\"");
    op.thread = o["thread"].get<int>();
    if (!o.contains("op") || !o["op"].is_string()) return fail("needs a string \"op\" (the operation's name)");
    op.name = o["op"].get<std::string>();
    if (o.contains("args")) {
      if (!o["args"].is_array()) return fail("\"args\" must be an array");
      for (const auto& a : o["args"]) {
        auto v = ValueFromJson(a, false);
        if (!v) return fail(v.error());
        op.args.push_back(*v);
      }
    }
    if (o.contains("result")) {
      auto v = ValueFromJson(o["result"], true);
      if (!v) return fail(v.error());
      op.result = *v;
    }
    if (!o.contains("invoke") || !o["invoke"].is_number_unsigned()) {
      return fail("needs a non-negative integer \"invoke\"");
    }
    op.invoke = o["invoke"].get<Clock>();
    if (o.contains("response") && !o["response"].is_null()) {
      if (!o["response"].is_number_unsigned()) return fail("\"response\" must be a non-negative integer or null");
      op.response = o["response"].get<Clock>();
    }
    h.push_back(std::move(op));
  }
  return h;
}

nlohmann::json HistoryToJson(const History& h) {
  nlohmann::json out = nlohmann::json::array();
  for (const Operation& op : h) {
    nlohmann::json args = nlohmann::json::array();
    for (const Value& a : op.args) args.push_back(ValueToJson(a));
    out.push_back({{"thread", op.thread}, {"op", op.name}, {"args", args},
                   {"result", ValueToJson(op.result)}, {"invoke", op.invoke},
                   {"response", op.response ? nlohmann::json(*op.response) : nlohmann::json(nullptr)}});
  }
  return out;
}

std::function<int()> SetupLinearizableCommand(CLI::App& sub) {
  struct Args {
    std::string model;
    std::string file;
    bool json = false;
    std::uint64_t max_steps = CheckOptions{}.max_search_steps;
  };
  auto args = std::make_shared<Args>();
  sub.add_option("--model", args->model, "the sequential model: register, counter, queue, stack, map")
      ->required();
  sub.add_option("history", args->file, "the history as JSON (see properties/linearizability_command.h)")
      ->required();
  sub.add_flag("--json", args->json, "print the verdict as JSON");
  sub.add_option("--max-steps", args->max_steps, "bound on the search (partial orders tried)");
  return [args]() -> int {
    std::ifstream in(args->file);
    if (!in) {
      std::cerr << "ipclab linearizable: cannot read " << args->file << "\n";
      return 2;
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      std::cerr << "ipclab linearizable: " << args->file << " is not valid JSON\n";
      return 2;
    }
    auto history = HistoryFromJson(j);
    if (!history) {
      std::cerr << "ipclab linearizable: " << args->file << ": " << history.error() << "\n";
      return 2;
    }
    CheckOptions options;
    options.max_search_steps = args->max_steps;
    auto r = CheckNamed(args->model, *history, options);
    if (!r) {
      std::cerr << "ipclab linearizable: " << r.error() << "\n";
      return 2;
    }
    if (args->json) {
      nlohmann::json out = {{"kind", r->ok() ? "clean" : std::string(r->verdict == Verdict::kNotLinearizable
                                                                         ? "nonlinearizable"
                                                                         : VerdictName(r->verdict))},
                            {"verdict", VerdictName(r->verdict)},
                            {"order", r->order},
                            {"search_steps", r->search_steps},
                            {"explanation", r->explanation}};
      if (r->blocked) out["blocked"] = *r->blocked;
      std::cout << out.dump(2) << "\n";
    } else if (r->verdict == Verdict::kLinearizable || r->verdict == Verdict::kNotLinearizable) {
      std::cout << r->explanation;
    }
    switch (r->verdict) {
      case Verdict::kLinearizable: return 0;
      case Verdict::kNotLinearizable: return 1;
      case Verdict::kMalformed:
        std::cerr << "ipclab linearizable: " << r->explanation.substr(0, r->explanation.find('\n')) << "\n";
        return 2;
      case Verdict::kUnknown:
        std::cerr << fmt::format("ipclab linearizable: no verdict within {} search steps; raise --max-steps\n",
                                 args->max_steps);
        return 2;
    }
    return 2;
  };
}

}  // namespace properties
