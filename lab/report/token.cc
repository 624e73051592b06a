#include "lab/report/token.h"

#include <array>
#include <charconv>

#include <fmt/format.h>

namespace lab {
namespace {

constexpr std::string_view kShape = "lab1.<strategy>.<seed hex>.<choices base64url>.<crc32 hex8>";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string Base64UrlEncode(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64Url[(v >> shift) & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = bytes[i] << 16;
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
  } else if (rest == 2) {
    std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
    out.push_back(kBase64Url[(v >> 6) & 63]);
  }
  return out;
}

std::expected<std::vector<std::uint8_t>, std::string> Base64UrlDecode(std::string_view text) {
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int v = Base64Value(text[i]);
    if (v < 0) {
      return std::unexpected(fmt::format(
          "replay token choices: character {:?} at offset {} is not base64url (A-Z a-z 0-9 - _, "
          "no padding)",
          text[i], i));
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (text.size() % 4 == 1) {
    return std::unexpected(fmt::format(
        "replay token choices: {} base64url characters cannot encode whole bytes (truncated?)",
        text.size()));
  }
  if (acc != 0) {
    return std::unexpected("replay token choices: non-zero padding bits in the last base64url "
                           "character (altered?)");
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::uint32_t Crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char byte : data) c = kCrcTable[(c ^ byte) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool IsValidStrategyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxStrategyNameLength) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string EncodeToken(const ReplayToken& token) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(token.choices.size());
  for (std::uint32_t v : token.choices) {
    while (v >= 0x80) {
      bytes.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    bytes.push_back(static_cast<std::uint8_t>(v));
  }
  std::string body = fmt::format("lab{}.{}.{:x}.{}", token.version, token.strategy, token.seed,
                                 Base64UrlEncode(bytes));
  return fmt::format("{}.{:08x}", body, Crc32(body));
}

std::expected<ReplayToken, std::string> DecodeToken(std::string_view text) {
  auto fail = [](std::string message) -> std::expected<ReplayToken, std::string> {
    return std::unexpected(std::move(message));
  };
  if (text.empty()) return fail(fmt::format("empty replay token (expected {})", kShape));

  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = text.find('.', start);
    fields.push_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }

  // The version decides the layout, so it is checked before anything else.
  std::string_view head = fields[0];
  if (!head.starts_with("lab") || head.size() == 3) {
    return fail(fmt::format("not a lab replay token: it must start with 'lab1.' (expected {})",
                            kShape));
  }
  std::string_view version_text = head.substr(3);
  int version = 0;
  auto [vend, verr] =
      std::from_chars(version_text.data(), version_text.data() + version_text.size(), version);
  if (verr != std::errc{} || vend != version_text.data() + version_text.size() ||
      version_text.starts_with('0')) {
    return fail(fmt::format("replay token version {:?} is not a number (expected {})",
                            version_text, kShape));
  }
  if (version != kTokenVersion) {
    return fail(fmt::format("replay token version {} is not supported: this build reads version {}",
                            version, kTokenVersion));
  }
  if (fields.size() != 5) {
    return fail(fmt::format("replay token has {} '.'-separated fields, expected 5: {}",
                            fields.size(), kShape));
  }

  std::string_view crc_text = fields[4];
  if (crc_text.size() != 8 || !IsLowerHex(crc_text)) {
    return fail(fmt::format("replay token checksum {:?} must be 8 lower-case hex digits "
                            "(truncated?)",
                            crc_text));
  }
  std::uint32_t stated = 0;
  std::from_chars(crc_text.data(), crc_text.data() + 8, stated, 16);
  std::string_view body = text.substr(0, text.size() - 9);
  std::uint32_t actual = Crc32(body);
  if (stated != actual) {
    return fail(fmt::format("replay token checksum mismatch (token says {:08x}, content gives "
                            "{:08x}): it was altered or cut when copied",
                            stated, actual));
  }

  ReplayToken token;
  token.version = version;
  if (!IsValidStrategyName(fields[1])) {
    return fail(fmt::format("replay token strategy {:?} is not 1-{} characters of [a-z0-9_-]",
                            fields[1], kMaxStrategyNameLength));
  }
  token.strategy = std::string(fields[1]);

  std::string_view seed_text = fields[2];
  if (seed_text.empty() || seed_text.size() > 16 || !IsLowerHex(seed_text) ||
      (seed_text.size() > 1 && seed_text.starts_with('0'))) {
    return fail(fmt::format("replay token seed {:?} must be 1-16 lower-case hex digits without "
                            "leading zeros",
                            seed_text));
  }
  std::from_chars(seed_text.data(), seed_text.data() + seed_text.size(), token.seed, 16);

  auto bytes = Base64UrlDecode(fields[3]);
  if (!bytes) return fail(bytes.error());
  std::uint64_t value = 0;
  int shift = 0;
  std::size_t varint_start = 0;
  for (std::size_t i = 0; i < bytes->size(); ++i) {
    std::uint8_t b = (*bytes)[i];
    if (shift == 0) varint_start = i;
    if (shift == 28 && (b & 0xF0) != 0) {
      return fail(fmt::format("replay token choice {} (byte {}) does not fit in 32 bits",
                              token.choices.size(), varint_start));
    }
    value |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b & 0x80) {
      shift += 7;
      continue;
    }
    if (b == 0 && shift != 0) {
      return fail(fmt::format("replay token choice {} (byte {}) is an overlong varint",
                              token.choices.size(), varint_start));
    }
    token.choices.push_back(static_cast<std::uint32_t>(value));
    value = 0;
    shift = 0;
  }
  if (shift != 0) {
    return fail(fmt::format("replay token choices end inside a varint after {} choices "
                            "(truncated?)",
                            token.choices.size()));
  }
  return token;
}

}  // namespace lab
