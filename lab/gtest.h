// lab/gtest.h: GoogleTest glue for lab explorations.
//
//   EXPECT_LAB_CLEAN(lab::Options{.iterations = 500}, [] { ... });
//   EXPECT_LAB_FINDS("deadlock", lab::Options{.strategy = lab::Pct{}}, [] { ... });
// Both name the exploration after the running test (report files, replay command) and print the
// full report (or the summary) when the expectation fails. ASSERT_ variants stop the test.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "lab/explore.h"

namespace lab::testing {

inline Options Named(Options o) {
  if (o.name.empty()) {
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
      o.name = std::string(info->test_suite_name()) + "." + info->name();
    }
  }
  o.quiet = true;  // the assertion prints the report
  return o;
}

inline ::testing::AssertionResult IsClean(const ExploreResult& r) {
  if (r.clean()) return ::testing::AssertionSuccess() << r.Summary();
  return ::testing::AssertionFailure() << "expected a clean exploration, but\n" << r.Text();
}

inline ::testing::AssertionResult Finds(std::string_view kind, const ExploreResult& r) {
  if (r.Found(kind)) return ::testing::AssertionSuccess() << r.Text();
  return ::testing::AssertionFailure() << "expected a " << kind << " finding, but\n" << r.Text();
}

inline ExploreResult ExploreNamed(const Options& options, std::function<void()> body) {
  return Explore(Named(options), std::move(body));
}

}  // namespace lab::testing

// Variadic so that commas inside `lab::Options{.a = 1, .b = 2}` need no parentheses.
#define EXPECT_LAB_CLEAN(...) \
  EXPECT_TRUE(::lab::testing::IsClean(::lab::testing::ExploreNamed(__VA_ARGS__)))
#define ASSERT_LAB_CLEAN(...) \
  ASSERT_TRUE(::lab::testing::IsClean(::lab::testing::ExploreNamed(__VA_ARGS__)))
#define EXPECT_LAB_FINDS(kind, ...) \
  EXPECT_TRUE(::lab::testing::Finds(kind, ::lab::testing::ExploreNamed(__VA_ARGS__)))
#define ASSERT_LAB_FINDS(kind, ...) \
  ASSERT_TRUE(::lab::testing::Finds(kind, ::lab::testing::ExploreNamed(__VA_ARGS__)))
