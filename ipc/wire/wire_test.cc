#include "ipc/wire/wire.h"

#include <cerrno>
#include <random>
#include <string_view>

#include <gtest/gtest.h>

namespace ipc::wire {
namespace {

std::span<const std::byte> Bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

TEST(Crc32, MatchesTheZlibCheckValue) {
  EXPECT_EQ(Crc32(Bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(Crc32({}), 0u);
}

TEST(Wire, RoundTripsTypeFlagsAndPayload) {
  auto f = Encode(9, Bytes("hello"), kFlagReply);
  ASSERT_TRUE(f) << f.error().message();
  ASSERT_EQ(f->size(), kHeaderSize + 5);
  auto v = Decode(*f);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(v->header.type, 9);
  EXPECT_EQ(v->header.flags, kFlagReply);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(v->payload.data()), v->payload.size()),
            "hello");
}

TEST(Wire, HeaderIsLittleEndianAtDocumentedOffsets) {
  auto f = Encode(0x0102, Bytes("ab"));
  ASSERT_TRUE(f);
  const auto& b = *f;
  EXPECT_EQ(b[0], std::byte{'I'});
  EXPECT_EQ(b[1], std::byte{'P'});
  EXPECT_EQ(b[2], std::byte{'C'});
  EXPECT_EQ(b[3], std::byte{'W'});
  EXPECT_EQ(b[4], std::byte{kVersion});
  EXPECT_EQ(b[6], std::byte{0x02});
  EXPECT_EQ(b[7], std::byte{0x01});
  EXPECT_EQ(b[8], std::byte{2});
}

TEST(Wire, EncodeRefusesOversizedReservedTypeAndUnknownFlags) {
  std::vector<std::byte> big(65);
  auto r = Encode(1, big, 0, 64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EMSGSIZE);
  EXPECT_EQ(Encode(0, Bytes("x")).error().err, EINVAL);
  EXPECT_EQ(Encode(1, Bytes("x"), 0x80).error().err, EINVAL);
}

TEST(Wire, DecodeNamesEachKindOfDamage) {
  auto good = *Encode(3, Bytes("payload"));
  // Truncated header and payload.
  EXPECT_EQ(Decode(std::span(good).first(5)).error().err, EBADMSG);
  auto t = Decode(std::span(good).first(good.size() - 1));
  EXPECT_EQ(t.error().err, EBADMSG);
  EXPECT_NE(t.error().message().find("truncated payload"), std::string::npos) << t.error().message();
  // Trailing bytes.
  auto longer = good;
  longer.push_back(std::byte{0});
  EXPECT_NE(Decode(longer).error().message().find("trailing"), std::string::npos);
  // Bad magic, version, flags, type.
  auto m = good;
  m[0] = std::byte{'X'};
  EXPECT_EQ(Decode(m).error().err, EPROTO);
  auto v = good;
  v[4] = std::byte{2};
  EXPECT_EQ(Decode(v).error().err, EPROTONOSUPPORT);
  auto fl = good;
  fl[5] = std::byte{0x40};
  EXPECT_EQ(Decode(fl).error().err, EPROTO);
  auto ty = good;
  ty[6] = ty[7] = std::byte{0};
  EXPECT_EQ(Decode(ty).error().err, EPROTO);
  // Corrupt payload: the CRC catches it.
  auto c = good;
  c.back() ^= std::byte{1};
  auto cr = Decode(c);
  EXPECT_EQ(cr.error().err, EBADMSG);
  EXPECT_NE(cr.error().message().find("crc32"), std::string::npos);
  // A length over the limit is refused from the header alone.
  auto o = good;
  o[11] = std::byte{0x7f};
  EXPECT_EQ(Decode(o).error().err, EMSGSIZE);
  EXPECT_EQ(Decode(good, 3).error().err, EMSGSIZE);
}

struct Ping {
  static constexpr uint16_t kWireType = 77;
  uint64_t seq;
  int32_t from;
};
struct Pong {
  static constexpr uint16_t kWireType = 78;
  uint64_t seq;
};

TEST(Wire, TypedMessagesCheckTypeAndSize) {
  auto b = EncodeTyped(Ping{.seq = 5, .from = 9});
  ASSERT_TRUE(b);
  auto p = DecodeTyped<Ping>(*b);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->seq, 5u);
  EXPECT_EQ(p->from, 9);
  auto wrong = DecodeTyped<Pong>(*b);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("type 77"), std::string::npos) << wrong.error().message();
  auto small = Encode(Ping::kWireType, Bytes("abc"));
  EXPECT_EQ(DecodeTyped<Ping>(*small).error().err, EBADMSG);
}

TEST(FrameDecoder, ReassemblesFramesFromArbitraryPieces) {
  std::vector<std::byte> stream;
  std::vector<std::string> sent;
  std::mt19937 rng(1);
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 300, char('a' + i % 26));
    sent.push_back(s);
    ASSERT_TRUE(EncodeInto(stream, uint16_t(1 + i), Bytes(s)));
  }
  FrameDecoder d;
  std::vector<std::string> got;
  size_t at = 0;
  while (at < stream.size()) {
    size_t n = std::min<size_t>(1 + rng() % 97, stream.size() - at);
    d.Feed(std::span(stream).subspan(at, n));
    at += n;
    for (;;) {
      auto f = d.Next();
      ASSERT_TRUE(f) << f.error().message();
      if (!*f) break;
      EXPECT_EQ((*f)->header.type, uint16_t(1 + got.size()));
      got.emplace_back(reinterpret_cast<const char*>((*f)->payload.data()), (*f)->payload.size());
    }
  }
  EXPECT_EQ(got, sent);
  EXPECT_TRUE(d.Finish());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, RefusesAnAbsurdLengthBeforeBufferingAndStaysPoisoned) {
  FrameDecoder d(1024);
  auto f = *Encode(1, Bytes("x"));
  f[8] = f[9] = f[10] = std::byte{0xff};
  d.Feed(std::span(f).first(kHeaderSize));
  auto r = d.Next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EMSGSIZE);
  d.Feed(*Encode(1, Bytes("fine")));
  EXPECT_FALSE(d.Next());  // poisoned: no resync on a byte stream
  EXPECT_FALSE(d.Finish());
}

TEST(FrameDecoder, FinishReportsAFrameCutShortByEndOfStream) {
  FrameDecoder d;
  auto f = *Encode(1, Bytes("half a frame"));
  d.Feed(std::span(f).first(f.size() - 3));
  auto r = d.Next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  auto fin = d.Finish();
  ASSERT_FALSE(fin);
  EXPECT_NE(fin.error().message().find("inside a frame"), std::string::npos);
}

TEST(FrameDecoder, CorruptPayloadIsAnError) {
  FrameDecoder d;
  auto f = *Encode(1, Bytes("data"));
  f.back() ^= std::byte{0x10};
  d.Feed(f);
  auto r = d.Next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EBADMSG);
}

}  // namespace
}  // namespace ipc::wire
