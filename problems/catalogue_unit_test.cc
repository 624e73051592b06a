// The catalogue as data: names, verdicts, docs, lookups and suggestions.
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "problems/all.h"
#include "problems/catalogue.h"

namespace problems {
namespace {

TEST(CatalogueTest, EveryCaseIsWellFormed) {
  Catalogue cat = FullCatalogue();
  ASSERT_GE(cat.cases().size(), 30u);
  std::set<std::string> problems_with_bug, problems_with_clean;
  for (const Case& c : cat.cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(IsKnownVerdict(c.expected));
    EXPECT_EQ(c.doc, "docs/problems/" + std::string(c.problem()) + ".md");
    EXPECT_FALSE(c.description.empty());
    EXPECT_GT(c.explanation.size(), 40u);
    (c.buggy() ? problems_with_bug : problems_with_clean).insert(std::string(c.problem()));
  }
  // Every problem has a correct version next to its bugs: the detectors are judged on both.
  for (const std::string& p : problems_with_bug) EXPECT_TRUE(problems_with_clean.contains(p)) << p;
}

TEST(CatalogueTest, EveryDocPageExists) {
  // Runs from the workspace root under Bazel only when docs are data; check what we can see.
  Catalogue cat = FullCatalogue();
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) GTEST_SKIP() << "not under bazel";
  for (const Case& c : cat.cases()) {
    std::filesystem::path p = std::filesystem::path(srcdir) / "ipclab" / c.doc;
    EXPECT_TRUE(std::filesystem::exists(p)) << c.name << ": " << p;
  }
}

TEST(CatalogueTest, FindAndMatching) {
  Catalogue cat = FullCatalogue();
  ASSERT_NE(cat.Find("dining_philosophers/naive"), nullptr);
  EXPECT_EQ(cat.Find("dining_philosophers/naive")->expected, "deadlock");
  EXPECT_EQ(cat.Find("dining_philosophers"), nullptr);
  EXPECT_EQ(cat.Matching("dining_philosophers").size(), cat.Matching("dining_philosophers/").size());
  EXPECT_GE(cat.Matching("dining_philosophers").size(), 5u);
  EXPECT_TRUE(cat.Matching("dining").empty());  // prefixes are whole path components
  EXPECT_EQ(cat.Matching("barrier/one_turnstile").size(), 1u);
}

TEST(CatalogueTest, NearestSuggestsTheIntendedCase) {
  Catalogue cat = FullCatalogue();
  auto near = cat.Nearest("dining_philosopher/naive");
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near.front(), "dining_philosophers/naive");
  near = cat.Nearest("producer_consumer/nomutex");
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near.front(), "producer_consumer/no_mutex");
  EXPECT_TRUE(cat.Nearest("zzzzzzzzzzzzzzzzzzzzzzzzzzzz").empty());
}

TEST(CatalogueTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
}

TEST(CatalogueDeathTest, MalformedCasesAreProgrammingErrors) {
  Case c{.name = "Bad Name", .expected = "clean", .description = "d", .explanation = "e",
         .doc = "x", .exploration = {}, .body = [] {}};
  Catalogue cat;
  EXPECT_DEATH(cat.Add(c), "lower_snake_case");
  c.name = "good/name";
  c.expected = "mystery";
  EXPECT_DEATH(cat.Add(c), "unknown expected verdict");
  c.expected = "clean";
  cat.Add(c);
  EXPECT_DEATH(cat.Add(c), "duplicate");
}

}  // namespace
}  // namespace problems
