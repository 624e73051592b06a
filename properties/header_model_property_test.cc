// Model-based (rc::state) property of the segment header validation on attach
// (ipc::shm::ValidateHeader): a header is a plain struct. Random sequences of field corruptions
// (a hostile or buggy peer writing any field, with or without recomputing the checksum as a
// forger would), segment resizes and validations run against real header bytes and the model,
// which says for every state which check must refuse it, with which errno (EBADMSG for damage,
// EPROTO for a version or layout mismatch) and what the message must name, or that the header
// must be accepted and read back field by field. Every validation hands the validator an exact-
// size heap copy at a random misalignment, so under ASan a read outside the bytes is a failure.
//
// The planted twin (properties/planted/planted_header.h: a validator that accepts a header
// claiming fewer bytes than the segment has) must be caught and shrunk to a short sequence.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipc/shm/header.h"
#include "properties/planted/planted_header.h"

namespace {

using ipc::shm::kHeaderSize;
using ipc::shm::SegmentHeader;

enum Field { kMagic, kVersion, kSize, kPid, kLayout, kLayoutVersion, kReserved0, kCreated, kReserved1, kChecksum, kFields };
const char* const kFieldNames[] = {"magic", "version", "size", "creator_pid", "layout", "layout_version",
                                   "reserved0", "created_ns", "reserved1", "checksum"};

// The model: the fields as a struct. created_ns is whatever the creator wrote (the model does not
// know it) until a command overwrites it; likewise the checksum is the creator's (or the last
// forger's) correct one until overwritten with an arbitrary value.
struct Fields {
  std::uint32_t magic = ipc::shm::kHeaderMagic;
  std::uint32_t version = ipc::shm::kHeaderVersion;
  std::uint64_t size = 0;
  std::int32_t pid = 0;
  std::uint32_t layout = 0;
  std::uint32_t layout_version = 0;
  std::uint32_t reserved0 = 0;
  std::optional<std::int64_t> created;  // nullopt: as the creator wrote it
  std::uint8_t reserved1[16] = {};
  bool operator==(const Fields&) const = default;
};
struct HeaderModel {
  std::size_t segment = 0;  // mapped bytes; 0 before Create
  Fields fields;            // what bytes 0..55 hold
  Fields sealed;            // what they held when the checksum was last computed
  std::optional<std::uint64_t> checksum;  // nullopt: the checksum computed over `sealed`
  bool ChecksumMatches() const { return !checksum && fields == sealed; }
};

struct Verdict {
  int err = 0;           // 0: accepted
  const char* names = "";  // a word the error's detail must contain
};

Verdict Expected(const HeaderModel& m, std::size_t view, ipc::shm::HeaderExpectation expect) {
  const Fields& f = m.fields;
  if (view < kHeaderSize) return {EBADMSG, "smaller than the"};
  if (f.magic != ipc::shm::kHeaderMagic) return {EBADMSG, f.magic == 0 ? "magic 0" : "not an ipclab segment"};
  if (f.version != ipc::shm::kHeaderVersion) return {EPROTO, "header version"};
  if (!m.ChecksumMatches()) return {EBADMSG, "checksum"};
  if (f.size != view) return {EBADMSG, "header says"};
  bool reserved = f.reserved0 != 0;
  for (auto b : f.reserved1) reserved |= b != 0;
  if (f.pid <= 0 || reserved) return {EBADMSG, "reserved fields"};
  if (expect.layout != 0 && f.layout != expect.layout) return {EPROTO, "!= expected"};
  if (expect.layout_version != 0 && f.layout_version != expect.layout_version) return {EPROTO, "version"};
  return {};
}

// The real header bytes (one segment, 8-byte aligned as a mapping is) and the validator under test.
struct HeaderSut {
  using Validator = ipc::sys::Result<SegmentHeader> (*)(std::span<const std::byte>, ipc::shm::HeaderExpectation);
  explicit HeaderSut(Validator v) : validate(v) {}
  std::vector<std::uint64_t> words;  // the segment
  std::size_t segment = 0;
  Validator validate;
  std::span<std::byte> bytes() { return std::as_writable_bytes(std::span(words)).first(segment); }
};

using Cmd = rc::state::Command<HeaderModel, HeaderSut>;

// A creator initialises a segment of `size` bytes.
struct Create : Cmd {
  std::size_t size = *rc::gen::inRange<std::size_t>(kHeaderSize, 257);
  std::uint32_t layout = *rc::gen::element<std::uint32_t>(std::uint32_t{ipc::shm::kRawLayout}, ipc::shm::LayoutTag("SPSC"));
  std::uint32_t layout_version = *rc::gen::inRange<std::uint32_t>(1, 4);
  void apply(HeaderModel& m) const override {
    m.segment = size;
    m.fields = {};
    m.fields.size = size;
    m.fields.pid = ::getpid();
    m.fields.layout = layout;
    m.fields.layout_version = layout_version;
    m.sealed = m.fields;
    m.checksum.reset();
  }
  void run(const HeaderModel&, HeaderSut& sut) const override {
    sut.words.assign((size + 7) / 8, 0);
    sut.segment = size;
    RC_ASSERT(ipc::shm::WriteHeader(sut.bytes(), layout, layout_version).has_value());
  }
  void show(std::ostream& os) const override {
    os << "Create(" << size << " bytes, layout " << std::hex << layout << std::dec << " v" << layout_version << ")";
  }
};

// A peer writes one field (the value generated per field, biased to the interesting ones).
struct Corrupt : Cmd {
  Field field = static_cast<Field>(*rc::gen::inRange<int>(0, kFields));
  std::uint64_t value = *ValueFor(field);
  std::size_t index = *rc::gen::inRange<std::size_t>(0, 16);  // for reserved1

  static rc::Gen<std::uint64_t> ValueFor(Field f) {
    auto any = rc::gen::arbitrary<std::uint64_t>();
    switch (f) {
      case kMagic: return rc::gen::oneOf(rc::gen::element<std::uint64_t>(0, std::uint64_t{ipc::shm::kHeaderMagic ^ 1}), any);
      case kVersion: return rc::gen::oneOf(rc::gen::element<std::uint64_t>(0, 1, 2), any);
      case kSize: return rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, 300), any);
      case kPid: return rc::gen::oneOf(rc::gen::element<std::uint64_t>(0, 0xffffffff, 1), any);
      default: return rc::gen::oneOf(rc::gen::just<std::uint64_t>(0), any);
    }
  }
  void checkPreconditions(const HeaderModel& m) const override { RC_PRE(m.segment > 0); }
  void apply(HeaderModel& m) const override {
    Fields& f = m.fields;
    switch (field) {
      case kMagic: f.magic = std::uint32_t(value); break;
      case kVersion: f.version = std::uint32_t(value); break;
      case kSize: f.size = value; break;
      case kPid: f.pid = std::int32_t(std::uint32_t(value)); break;
      case kLayout: f.layout = std::uint32_t(value); break;
      case kLayoutVersion: f.layout_version = std::uint32_t(value); break;
      case kReserved0: f.reserved0 = std::uint32_t(value); break;
      case kCreated: f.created = std::int64_t(value); break;
      case kReserved1: f.reserved1[index] = std::uint8_t(value); break;
      case kChecksum: m.checksum = value; break;
      case kFields: break;
    }
  }
  void run(const HeaderModel&, HeaderSut& sut) const override {
    std::byte* h = sut.bytes().data();
    auto put = [&](std::size_t off, auto v) { std::memcpy(h + off, &v, sizeof v); };
    switch (field) {
      case kMagic: put(offsetof(SegmentHeader, magic), std::uint32_t(value)); break;
      case kVersion: put(offsetof(SegmentHeader, version), std::uint32_t(value)); break;
      case kSize: put(offsetof(SegmentHeader, size), value); break;
      case kPid: put(offsetof(SegmentHeader, creator_pid), std::uint32_t(value)); break;
      case kLayout: put(offsetof(SegmentHeader, layout), std::uint32_t(value)); break;
      case kLayoutVersion: put(offsetof(SegmentHeader, layout_version), std::uint32_t(value)); break;
      case kReserved0: put(offsetof(SegmentHeader, reserved0), std::uint32_t(value)); break;
      case kCreated: put(offsetof(SegmentHeader, created_ns), value); break;
      case kReserved1: put(offsetof(SegmentHeader, reserved1) + index, std::uint8_t(value)); break;
      case kChecksum: put(offsetof(SegmentHeader, checksum), value); break;
      case kFields: break;
    }
  }
  void show(std::ostream& os) const override {
    os << "Corrupt(" << kFieldNames[field];
    if (field == kReserved1) os << "[" << index << "]";
    os << " = " << value << ")";
  }
};

// A forger recomputes the checksum over whatever the fields now hold.
struct Reseal : Cmd {
  void checkPreconditions(const HeaderModel& m) const override { RC_PRE(m.segment > 0); }
  void apply(HeaderModel& m) const override {
    m.sealed = m.fields;
    m.checksum.reset();
  }
  void run(const HeaderModel&, HeaderSut& sut) const override {
    SegmentHeader h;
    std::memcpy(&h, sut.bytes().data(), kHeaderSize);
    h.checksum = ipc::shm::HeaderChecksum(h);
    std::memcpy(sut.bytes().data() + offsetof(SegmentHeader, checksum), &h.checksum, sizeof h.checksum);
  }
  void show(std::ostream& os) const override { os << "Reseal"; }
};

// The file behind the segment is truncated or extended (zeros), the header left as it was.
struct Resize : Cmd {
  std::size_t size = *rc::gen::inRange<std::size_t>(kHeaderSize, 257);
  void checkPreconditions(const HeaderModel& m) const override { RC_PRE(m.segment > 0); }
  void apply(HeaderModel& m) const override { m.segment = size; }
  void run(const HeaderModel&, HeaderSut& sut) const override {
    sut.words.resize((size + 7) / 8);  // new words are zero; bytes past the old end were zero
    if (size < sut.segment) std::memset(sut.bytes().data() + size, 0, sut.words.size() * 8 - size);
    sut.segment = size;
  }
  void show(std::ostream& os) const override { os << "Resize(" << size << " bytes)"; }
};

// An attacher validates what it mapped (all of it, or a view cut short), expecting a layout.
struct Validate : Cmd {
  std::size_t cut = *rc::gen::oneOf(rc::gen::just<std::size_t>(0), rc::gen::inRange<std::size_t>(1, 80));
  std::size_t misalign = *rc::gen::inRange<std::size_t>(0, 8);
  ipc::shm::HeaderExpectation expect{
      .layout = *rc::gen::element<std::uint32_t>(0, std::uint32_t{ipc::shm::kRawLayout}, ipc::shm::LayoutTag("SPSC")),
      .layout_version = *rc::gen::inRange<std::uint32_t>(0, 4)};
  void checkPreconditions(const HeaderModel& m) const override { RC_PRE(m.segment > 0); }
  void apply(HeaderModel&) const override {}
  void run(const HeaderModel& m, HeaderSut& sut) const override {
    std::size_t view = cut >= m.segment ? 0 : m.segment - cut;
    // An exact-size heap block: one byte past `view` is outside it (ASan sees any overread).
    std::unique_ptr<std::byte[]> block(new std::byte[misalign + view + 1]);
    std::memcpy(block.get() + misalign, sut.bytes().data(), view);
    std::span<const std::byte> bytes(block.get() + misalign, view);
    auto r = sut.validate(bytes, expect);
    Verdict want = Expected(m, view, expect);
    if (want.err != 0) {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == want.err);
      RC_ASSERT(r.error().call == "shm.header");
      RC_ASSERT(r.error().detail.find(want.names) != std::string::npos);
      return;
    }
    RC_ASSERT(r.has_value());
    const Fields& f = m.fields;
    RC_ASSERT(r->magic == f.magic);
    RC_ASSERT(r->size == f.size);
    RC_ASSERT(r->creator_pid == f.pid);
    RC_ASSERT(r->layout == f.layout);
    RC_ASSERT(r->layout_version == f.layout_version);
    if (f.created) RC_ASSERT(r->created_ns == *f.created);
  }
  void show(std::ostream& os) const override {
    os << "Validate(cut " << cut << ", misalign " << misalign << ", expect layout " << std::hex
       << expect.layout << std::dec << " v" << expect.layout_version << ")";
  }
};

std::size_t g_last_failing_length = 0;

ipc::sys::Result<SegmentHeader> RealValidate(std::span<const std::byte> b, ipc::shm::HeaderExpectation e) {
  return ipc::shm::ValidateHeader(b, e);
}
ipc::sys::Result<SegmentHeader> PlantedValidate(std::span<const std::byte> b, ipc::shm::HeaderExpectation e) {
  return properties::planted::ValidateHeaderTrustingSize(b, e);
}

void RunSequence(HeaderSut::Validator validator) {
  HeaderModel model;
  // Every sequence starts from a freshly created segment; later Creates start over.
  auto cmds = *rc::state::gen::commands(
      model, rc::state::gen::execOneOfWithArgs<Create, Corrupt, Corrupt, Corrupt, Reseal, Resize,
                                               Validate, Validate, Validate>());
  HeaderSut sut(validator);
  try {
    rc::state::runAll(cmds, model, sut);
  } catch (...) {
    g_last_failing_length = cmds.size();
    throw;
  }
}

RC_GTEST_PROP(HeaderModel, CorruptionsRejectedWithTheRightErrorValidHeadersAccepted, ()) {
  RunSequence(RealValidate);
}

TEST(HeaderModel, FindsPlantedSizeTrustAndShrinksIt) {
  g_last_failing_length = 0;
  bool passed = rc::check("planted validator trusting a smaller recorded size", [] { RunSequence(PlantedValidate); });
  EXPECT_FALSE(passed) << "the property missed the planted size check";
  // Smallest failure: Create, Corrupt(size = smaller), Reseal, Validate.
  std::cout << "shrunk counterexample: " << g_last_failing_length << " commands\n";
  EXPECT_GT(g_last_failing_length, 0u);
  EXPECT_LE(g_last_failing_length, 5u) << "counterexample not shrunk";
}

}  // namespace
