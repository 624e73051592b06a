// The scenario text form: parses what it prints, and rejects bad text with a useful message.
#include "properties/scenario.h"

// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace properties {
namespace {

rc::Gen<Value> GenArgument() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Value(i); }),
                        rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Value(b); }),
                        rc::gen::just(Value(Empty{})),
                        rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string s) { return Value(std::move(s)); }));
}

rc::Gen<Operation> GenOperation() {
  return rc::gen::apply(
      [](std::string name, std::vector<Value> args) {
        Operation op;
        op.name = std::move(name);
        op.args = std::move(args);
        return op;
      },
      rc::gen::elementOf(std::vector<std::string>{"push", "pop", "size", "get_or_put", "x1"}),
      rc::gen::container<std::vector<Value>>(*rc::gen::inRange<size_t>(0, 3), GenArgument()));
}

RC_GTEST_PROP(ScenarioProperty, ParsePrintRoundTrips, ()) {
  Scenario s;
  s.threads = *rc::gen::container<std::vector<std::vector<Operation>>>(
      *rc::gen::inRange<size_t>(1, 4),
      rc::gen::container<std::vector<Operation>>(*rc::gen::inRange<size_t>(1, 5), GenOperation()));
  auto parsed = Scenario::Parse(s.ToString());
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(*parsed == s);
  RC_ASSERT(parsed->ToString() == s.ToString());
}

TEST(Scenario, ParsesTheDocumentedForm) {
  auto s = Scenario::Parse("push(1) pop() | size() |put(\"a b\", -3, true)");
  ASSERT_TRUE(s.has_value()) << s.error();
  ASSERT_EQ(s->threads.size(), 3u);
  EXPECT_EQ(s->threads[0].size(), 2u);
  EXPECT_EQ(s->threads[0][0].args, std::vector<Value>{std::int64_t{1}});
  EXPECT_EQ(s->threads[2][0].args, (std::vector<Value>{std::string("a b"), std::int64_t{-3}, true}));
  EXPECT_EQ(s->operation_count(), 4u);
}

TEST(Scenario, BadTextSaysWhereAndWhatIsValid) {
  for (const char* bad : {"", "push(1", "push(1 2)", "push(x)", "(1)", "push(\"open)"}) {
    auto s = Scenario::Parse(bad);
    ASSERT_FALSE(s.has_value()) << bad;
    EXPECT_NE(s.error().find("a scenario looks like"), std::string::npos) << s.error();
  }
}

}  // namespace
}  // namespace properties
