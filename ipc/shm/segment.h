// ipc/shm/segment.h: shared-memory segments with a validated header.
//
// Three back-ends, one type:
//   POSIX       shm_open(O_CREAT|O_EXCL, 0600) + ftruncate + mmap(MAP_SHARED); named by
//               ipc::audit::PosixName(purpose); the creator shm_unlinks it.
//   System V    shmget(IPC_PRIVATE) + shmat; registered with ipc/audit/registry.h; the creator
//               removes it (IPC_RMID) and unregisters it. Others attach by id.
//   mapped file open(O_CREAT|O_EXCL, 0600) + ftruncate + mmap; attach MAP_SHARED (writes reach
//               the file and every other mapping; Sync() msyncs them to the file) or MAP_PRIVATE
//               (copy-on-write: this process's writes stay private). The creator unlinks it.
//
// RAII: a Segment made by Create* owns the object and removes it on destruction (or Remove());
// one made by Attach* only maps and unmaps. Every segment starts with the 64-byte header of
// header.h, validated on attach, so attaching to a truncated, corrupt or foreign segment is a
// clear error (EBADMSG/EPROTO naming the object), never a crash.
//
//   auto seg = Segment::CreatePosix("ring", 1 << 20, {.layout = LayoutTag("SPSC")});
//   ... fork, or pass seg->name() to another process ...
//   auto peer = Segment::AttachPosix(name, {.layout = LayoutTag("SPSC")});
//   std::span<std::byte> bytes = peer->payload();
//
// A process that maps a segment trusts it from then on: a hostile peer that later shrinks a
// POSIX segment or file with ftruncate can make accesses fault (SIGBUS); only peers with write
// access (same uid, mode 0600) can do that.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ipc/shm/header.h"
#include "ipc/sys/sys.h"

namespace ipc::shm {

struct CreateOptions {
  std::uint32_t layout = kRawLayout;
  std::uint32_t layout_version = 1;
  mode_t mode = 0600;
};

struct AttachOptions {
  HeaderExpectation expect = {};  // layout (and version) the attacher needs; 0 = any
  bool read_only = false;
  bool copy_on_write = false;  // mapped files only: MAP_PRIVATE
};

class Segment {
 public:
  enum class Kind { kPosix, kSysv, kFile };

  // Creates an object with room for `payload_bytes` after the header, maps it and writes the
  // header. `purpose` as for ipc::audit::UniqueName. For CreateFile, `path` is the file to create
  // (O_EXCL), normally inside an ipc::audit::PrivateDir.
  static sys::Result<Segment> CreatePosix(std::string_view purpose, std::size_t payload_bytes,
                                          CreateOptions options = {});
  static sys::Result<Segment> CreateSysv(std::string_view purpose, std::size_t payload_bytes,
                                         CreateOptions options = {});
  static sys::Result<Segment> CreateFile(const std::string& path, std::size_t payload_bytes,
                                         CreateOptions options = {});

  // Maps an existing object and validates its header.
  static sys::Result<Segment> AttachPosix(const std::string& name, AttachOptions options = {});
  static sys::Result<Segment> AttachSysv(int id, AttachOptions options = {});
  static sys::Result<Segment> AttachFile(const std::string& path, AttachOptions options = {});

  Segment(Segment&& o) noexcept;
  Segment& operator=(Segment&& o) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  Kind kind() const { return kind_; }
  bool owner() const { return owner_; }
  // How another process attaches: the POSIX name, the file path, or the decimal System V id.
  const std::string& name() const { return name_; }
  int sysv_id() const { return sysv_id_; }
  // The whole mapping, header included, and what follows the header.
  std::span<std::byte> bytes() const { return {base_, size_}; }
  std::span<std::byte> payload() const { return bytes().subspan(kHeaderSize); }
  const SegmentHeader& header() const { return *reinterpret_cast<const SegmentHeader*>(base_); }

  // msync(MS_SYNC) of the whole mapping: for a shared mapped file, the data is in the file when
  // this returns. (For POSIX and System V segments there is no backing file; it is harmless.)
  sys::Status Sync() const;
  // The owner removes the object now (the mapping stays valid until destruction); afterwards
  // nobody can attach by name. Attachers: no-op.
  sys::Status Remove();

 private:
  Segment() = default;
  void Release();
  static sys::Result<Segment> MapFd(Kind kind, int fd, const std::string& name,
                                    AttachOptions options, std::string_view map_call);
  // A new object's mapping as an owned segment with its header written (creators).
  static sys::Result<Segment> AdoptNew(Kind kind, const std::string& name, void* base,
                                       std::size_t size, const CreateOptions& options);
  // ftruncate(fd, size), map it shared, then AdoptNew.
  static sys::Result<Segment> MapNewFd(Kind kind, int fd, const std::string& name,
                                       std::size_t size, const CreateOptions& options);

  Kind kind_ = Kind::kPosix;
  bool owner_ = false;
  bool removed_ = false;
  std::string name_;
  int sysv_id_ = -1;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
};

std::string_view KindName(Segment::Kind kind);

}  // namespace ipc::shm
