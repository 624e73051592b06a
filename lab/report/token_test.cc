#include "lab/report/token.h"

#include <cctype>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lab {
namespace {

using ::testing::HasSubstr;

// A token with a correct checksum around an arbitrary body: reaches the parsing checks behind
// the checksum.
std::string WithCrc(std::string_view body) {
  return fmt::format("{}.{:08x}", body, Crc32(body));
}

std::string ErrorOf(std::string_view text) {
  auto decoded = DecodeToken(text);
  EXPECT_FALSE(decoded.has_value()) << "accepted " << text;
  return decoded ? std::string() : decoded.error();
}

TEST(Crc32Test, MatchesZlib) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the standard check value
  EXPECT_EQ(Crc32("lab1.pct.2a.AgEA"), 0x2a4022beu);
}

TEST(TokenTest, EncodesTheDocumentedExample) {
  ReplayToken t{.version = 1, .strategy = "pct", .seed = 0x2a, .choices = {2, 1, 0}};
  EXPECT_EQ(EncodeToken(t), "lab1.pct.2a.AgEA.2a4022be");
  auto back = DecodeToken("lab1.pct.2a.AgEA.2a4022be");
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, t);
}

TEST(TokenTest, RoundTripsEdgeValues) {
  const ReplayToken cases[] = {
      {1, "random", 0, {}},
      {1, "dfs", 1, {0}},
      {1, "replay", std::numeric_limits<std::uint64_t>::max(),
       {127, 128, 16383, 16384, std::numeric_limits<std::uint32_t>::max(), 0, 5}},
      {1, "a-b_c9", 0x123456789abcdef0, std::vector<std::uint32_t>(1000, 3)},
      {1, std::string(kMaxStrategyNameLength, 'z'), 7, {1, 2}},
      {1, "pct", 42, {1}},           // 1 byte: 2 base64 characters
      {1, "pct", 42, {1, 2}},        // 2 bytes: 3 characters
      {1, "pct", 42, {1, 2, 3}},     // 3 bytes: 4 characters
      {1, "pct", 42, {200, 2, 3}},   // 4 bytes
  };
  for (const ReplayToken& t : cases) {
    std::string text = EncodeToken(t);
    auto back = DecodeToken(text);
    ASSERT_TRUE(back.has_value()) << text << ": " << back.error();
    EXPECT_EQ(*back, t) << text;
    EXPECT_EQ(EncodeToken(*back), text);
    // Shell-safe: nothing a shell would interpret.
    for (char c : text) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')
          << text;
    }
  }
}

TEST(TokenTest, RejectsEmpty) { EXPECT_THAT(ErrorOf(""), HasSubstr("empty replay token")); }

TEST(TokenTest, RejectsForeignPrefix) {
  EXPECT_THAT(ErrorOf("hello"), HasSubstr("must start with 'lab1.'"));
  EXPECT_THAT(ErrorOf("lab.pct.2a.AgEA.2a4022be"), HasSubstr("must start with 'lab1.'"));
  EXPECT_THAT(ErrorOf(" lab1.pct.2a.AgEA.2a4022be"), HasSubstr("must start with 'lab1.'"));
}

TEST(TokenTest, RejectsWrongVersion) {
  ReplayToken t{.version = 2, .strategy = "pct", .seed = 1, .choices = {1}};
  std::string text = EncodeToken(t);
  EXPECT_TRUE(text.starts_with("lab2."));
  EXPECT_THAT(ErrorOf(text), HasSubstr("version 2 is not supported"));
  EXPECT_THAT(ErrorOf("labx.pct.2a.AgEA.2a4022be"), HasSubstr("is not a number"));
  EXPECT_THAT(ErrorOf(WithCrc("lab01.pct.2a.AgEA")), HasSubstr("is not a number"));
}

TEST(TokenTest, RejectsWrongFieldCount) {
  EXPECT_THAT(ErrorOf("lab1.pct.2a.AgEA"), HasSubstr("has 4 '.'-separated fields, expected 5"));
  EXPECT_THAT(ErrorOf("lab1.pct.2a.AgEA.2a4022be."), HasSubstr("has 6"));
}

TEST(TokenTest, RejectsBadChecksum) {
  EXPECT_THAT(ErrorOf("lab1.pct.2a.AgEA.2a4022bf"), HasSubstr("checksum mismatch"));
  EXPECT_THAT(ErrorOf("lab1.pct.2b.AgEA.2a4022be"), HasSubstr("checksum mismatch"));
  EXPECT_THAT(ErrorOf("lab1.pct.2a.AgEB.2a4022be"), HasSubstr("checksum mismatch"));
  EXPECT_THAT(ErrorOf("lab1.pct.2a.AgEA.2a4022b"), HasSubstr("8 lower-case hex digits"));
  EXPECT_THAT(ErrorOf("lab1.pct.2a.AgEA.2A4022BE"), HasSubstr("8 lower-case hex digits"));
}

TEST(TokenTest, TruncationIsCaught) {
  std::string text = EncodeToken({1, "random", 0xdeadbeef, {1, 300, 70000, 2, 9}});
  for (std::size_t n = 0; n < text.size(); ++n) {
    EXPECT_FALSE(DecodeToken(text.substr(0, n)).has_value()) << text.substr(0, n);
  }
}

TEST(TokenTest, RejectsBadStrategy) {
  EXPECT_THAT(ErrorOf(WithCrc("lab1..2a.AgEA")), HasSubstr("strategy \"\""));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.PCT.2a.AgEA")), HasSubstr("[a-z0-9_-]"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.p$t.2a.AgEA")), HasSubstr("[a-z0-9_-]"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1." + std::string(kMaxStrategyNameLength + 1, 'a') + ".2a.AgEA")),
              HasSubstr("strategy"));
}

TEST(TokenTest, RejectsBadSeed) {
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct..AgEA")), HasSubstr("seed"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2A.AgEA")), HasSubstr("lower-case hex"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.02a.AgEA")), HasSubstr("without leading zeros"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.g.AgEA")), HasSubstr("seed"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.10000000000000000.AgEA")), HasSubstr("1-16"));
}

TEST(TokenTest, RejectsBadBase64) {
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a.Ag+A")), HasSubstr("not base64url"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a.AgE=")), HasSubstr("no padding"));
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a.AgEAA")), HasSubstr("cannot encode whole bytes"));
  // "AB" carries 12 bits: 8 for one byte, and 4 padding bits that must be zero.
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a.AB")), HasSubstr("padding bits"));
}

TEST(TokenTest, RejectsTruncatedVarint) {
  // One byte 0x81: a continuation bit with nothing after it.
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a.gQ")), HasSubstr("end inside a varint"));
}

TEST(TokenTest, RejectsOverlongAndOversizedVarints) {
  // 0x80 0x00 spells 0 in two bytes: not what the encoder writes.
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a.gAA")), HasSubstr("overlong"));
  // ff ff ff ff 1f is 2^36 - 1: more than 32 bits.
  EXPECT_THAT(ErrorOf(WithCrc("lab1.pct.2a._____x8")), HasSubstr("32 bits"));
}

}  // namespace
}  // namespace lab
