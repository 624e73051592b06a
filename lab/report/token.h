// lab/report/token.h: replay tokens, the one string that reproduces a failing execution.
//
// A token is printable, compact, safe to paste into a shell unquoted, and checksummed:
//
//   lab1.<strategy>.<seed hex>.<choices>.<crc32 hex8>       e.g.  lab1.pct.2a.AgEA.2a4022be
//
// - `lab1`: the format version (only 1 exists).
// - `<strategy>`: 1-32 characters of [a-z0-9_-] (the strategy that produced the schedule).
// - `<seed hex>`: the execution's seed, lower-case hex without leading zeros ("0" for zero).
// - `<choices>`: the schedule, each choice an unsigned LEB128 varint, the bytes in unpadded
//   base64url (RFC 4648 §5); empty for an empty schedule.
// - `<crc32 hex8>`: CRC-32 (IEEE 802.3, as zlib's crc32) of everything before the last '.',
//   8 lower-case hex digits. It catches a token cut short or mangled while being copied.
//
// The encoding is canonical: DecodeToken accepts exactly the strings EncodeToken produces, so a
// token that decodes re-encodes to the same string. No surrounding whitespace is accepted; the
// caller trims what a shell or environment variable may add.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace lab {

struct ReplayToken {
  int version = 1;
  std::string strategy;
  std::uint64_t seed = 0;
  std::vector<std::uint32_t> choices;

  friend bool operator==(const ReplayToken&, const ReplayToken&) = default;
};

inline constexpr int kTokenVersion = 1;
inline constexpr std::size_t kMaxStrategyNameLength = 32;

// The token for `token`. `token.strategy` must be a valid strategy name (see above) and
// `token.version` should be kTokenVersion; otherwise the result is a string DecodeToken rejects.
std::string EncodeToken(const ReplayToken& token);

// Parses a token. On any defect (empty, wrong prefix or version, wrong number of fields, bad
// strategy name, bad hex, bad base64url, truncated or overlong varint, checksum mismatch) the
// error is one line saying what is wrong and what a valid token looks like.
std::expected<ReplayToken, std::string> DecodeToken(std::string_view text);

// True iff `name` is a valid strategy name for a token.
bool IsValidStrategyName(std::string_view name);

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), equal to zlib's crc32(0, data, n).
std::uint32_t Crc32(std::string_view data);

}  // namespace lab
