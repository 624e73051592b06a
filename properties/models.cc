#include "properties/models.h"

#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace properties {
namespace {

[[noreturn]] void Unknown(const char* model, const Operation& op) {
  throw std::logic_error(fmt::format("the {} model has no operation {}", model, FormatCall(op)));
}

// push/pop/size over a sequence; `fifo` picks which end pop takes from.
Step<std::vector<std::int64_t>> SequenceStep(const char* model, bool fifo,
                                             const std::vector<std::int64_t>& s,
                                             const Operation& op) {
  if (op.name == "push") {
    auto next = s;
    next.push_back(op.Arg(0));
    return {{}, std::move(next)};
  }
  if (op.name == "pop") {
    if (s.empty()) return {Empty{}, s};
    auto next = s;
    std::int64_t v;
    if (fifo) {
      v = next.front();
      next.erase(next.begin());
    } else {
      v = next.back();
      next.pop_back();
    }
    return {v, std::move(next)};
  }
  if (op.name == "size") return {static_cast<std::int64_t>(s.size()), s};
  Unknown(model, op);
}

}  // namespace

size_t Int64VectorHash::operator()(const std::vector<std::int64_t>& v) const {
  size_t h = v.size();
  for (std::int64_t x : v) h = h * 1000003u ^ std::hash<std::int64_t>{}(x);
  return h;
}

IntModel RegisterModel() {
  IntModel m;
  m.name = "register";
  m.step = [](const std::int64_t& v, const Operation& op) -> Step<std::int64_t> {
    if (op.name == "write") return {{}, op.Arg(0)};
    if (op.name == "read") return {v, v};
    Unknown("register", op);
  };
  m.describe = [](const std::int64_t& v) { return std::to_string(v); };
  return m;
}

IntModel CounterModel() {
  IntModel m;
  m.name = "counter";
  m.step = [](const std::int64_t& v, const Operation& op) -> Step<std::int64_t> {
    if (op.name == "add") return {v, v + op.Arg(0)};
    if (op.name == "get") return {v, v};
    Unknown("counter", op);
  };
  m.describe = [](const std::int64_t& v) { return std::to_string(v); };
  return m;
}

SequenceModel QueueModel() {
  SequenceModel m;
  m.name = "fifo queue";
  m.step = [](const std::vector<std::int64_t>& s, const Operation& op) {
    return SequenceStep("fifo queue", true, s, op);
  };
  m.describe = [](const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); };
  return m;
}

SequenceModel StackModel() {
  SequenceModel m;
  m.name = "stack";
  m.step = [](const std::vector<std::int64_t>& s, const Operation& op) {
    return SequenceStep("stack", false, s, op);
  };
  m.describe = [](const std::vector<std::int64_t>& s) {
    return fmt::format("[{}] (top last)", fmt::join(s, ", "));
  };
  return m;
}

OptionalIntModel MapModel() {
  OptionalIntModel m;
  m.name = "map";
  m.step = [](const std::optional<std::int64_t>& v,
              const Operation& op) -> Step<std::optional<std::int64_t>> {
    if (op.name == "put") return {{}, op.Arg(1)};
    if (op.name == "get") return {v ? Value(*v) : Value(Empty{}), v};
    if (op.name == "erase") return {v.has_value(), std::nullopt};
    Unknown("map", op);
  };
  m.describe = [](const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("absent");
  };
  m.partition = [](const Operation& op) { return fmt::format("k={}", FormatValue(op.args.at(0))); };
  return m;
}

}  // namespace properties
