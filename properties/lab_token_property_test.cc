// Properties of replay tokens: what the lab prints must replay exactly what it ran, and a token
// damaged on its way through a terminal, a CI log or an issue must be refused, not misread.
// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lab/report/token.h"

namespace lab {
namespace {

rc::Gen<ReplayToken> ArbitraryToken() {
  return rc::gen::build<ReplayToken>(
      rc::gen::set(&ReplayToken::strategy,
                   rc::gen::container<std::string>(
                       *rc::gen::inRange<std::size_t>(1, kMaxStrategyNameLength + 1),
                       rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz0123456789_-")))),
      rc::gen::set(&ReplayToken::seed, rc::gen::arbitrary<std::uint64_t>()),
      rc::gen::set(&ReplayToken::choices, rc::gen::arbitrary<std::vector<std::uint32_t>>()));
}

RC_GTEST_PROP(LabTokenProperty, DecodeInvertsEncode, ()) {
  ReplayToken token = *ArbitraryToken();
  std::string text = EncodeToken(token);
  auto decoded = DecodeToken(text);
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(*decoded == token);
  RC_ASSERT(EncodeToken(*decoded) == text);
}

// CRC-32 detects every error burst of up to 32 bits, so any one changed character is refused.
RC_GTEST_PROP(LabTokenProperty, EveryOneCharacterChangeIsRefused, ()) {
  ReplayToken token = *ArbitraryToken();
  std::string text = EncodeToken(token);
  std::size_t pos = *rc::gen::inRange<std::size_t>(0, text.size());
  char replacement = *rc::gen::distinctFrom(rc::gen::arbitrary<char>(), text[pos]);
  text[pos] = replacement;
  RC_ASSERT_FALSE(DecodeToken(text).has_value());
}

RC_GTEST_PROP(LabTokenProperty, EveryTruncationIsRefused, ()) {
  std::string text = EncodeToken(*ArbitraryToken());
  std::size_t keep = *rc::gen::inRange<std::size_t>(0, text.size());
  RC_ASSERT_FALSE(DecodeToken(text.substr(0, keep)).has_value());
}

// Whatever is accepted is canonical: it is exactly what the encoder writes for its value.
RC_GTEST_PROP(LabTokenProperty, AcceptedStringsAreCanonical, (const std::string& text)) {
  auto decoded = DecodeToken(text);
  if (!decoded) {
    RC_ASSERT_FALSE(decoded.error().empty());
    return;
  }
  RC_ASSERT(EncodeToken(*decoded) == text);
}

}  // namespace
}  // namespace lab
