#include "ipc/shm/segment.h"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/audit/registry.h"
#include "ipc/sys/fd.h"

namespace ipc::shm {
namespace {

sys::Result<std::size_t> TotalSize(std::string_view object, std::size_t payload_bytes) {
  if (payload_bytes > std::numeric_limits<std::size_t>::max() / 2) {
    return sys::Fail("ipc::shm::Segment", object, EINVAL,
                     fmt::format("payload of {} bytes is too large", payload_bytes));
  }
  return kHeaderSize + payload_bytes;
}

// Undoes a half-made creation when a later step fails.
struct Undo {
  std::function<void()> fn;
  ~Undo() {
    if (fn) fn();
  }
};

}  // namespace

std::string_view KindName(Segment::Kind kind) {
  switch (kind) {
    case Segment::Kind::kPosix: return "posix";
    case Segment::Kind::kSysv: return "sysv";
    case Segment::Kind::kFile: return "file";
  }
  return "?";
}

Segment::Segment(Segment&& o) noexcept
    : kind_(o.kind_),
      owner_(std::exchange(o.owner_, false)),
      removed_(o.removed_),
      name_(std::move(o.name_)),
      sysv_id_(std::exchange(o.sysv_id_, -1)),
      base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

Segment& Segment::operator=(Segment&& o) noexcept {
  if (this != &o) {
    Release();
    kind_ = o.kind_;
    owner_ = std::exchange(o.owner_, false);
    removed_ = o.removed_;
    name_ = std::move(o.name_);
    sysv_id_ = std::exchange(o.sysv_id_, -1);
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

Segment::~Segment() { Release(); }

void Segment::Release() {
  if (base_) {
    if (kind_ == Kind::kSysv) {
      ::shmdt(base_);
    } else {
      ::munmap(base_, size_);
    }
    base_ = nullptr;
  }
  if (owner_) (void)Remove();
  owner_ = false;
}

sys::Status Segment::Remove() {
  if (!owner_ || removed_) return {};
  removed_ = true;
  sys::Result<int> r;
  switch (kind_) {
    case Kind::kPosix:
      r = sys::Call("shm_unlink", name_, [&] { return ::shm_unlink(name_.c_str()); });
      break;
    case Kind::kFile:
      r = sys::Call("unlink", name_, [&] { return ::unlink(name_.c_str()); });
      break;
    case Kind::kSysv: {
      auto s = audit::RemoveSysvObject(audit::SysvKind::kShm, sysv_id_);
      auto u = audit::UnregisterSysv(audit::SysvKind::kShm, sysv_id_);
      if (!s) return s;
      return u;
    }
  }
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Status Segment::Sync() const {
  auto r = sys::Call("msync", name_, [&] { return ::msync(base_, size_, MS_SYNC); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Result<Segment> Segment::MapFd(Kind kind, int fd, const std::string& name,
                                    AttachOptions options, std::string_view map_call) {
  struct stat st{};
  if (auto r = sys::Call("fstat", name, [&] { return ::fstat(fd, &st); }); !r) {
    return std::unexpected(r.error());
  }
  if (st.st_size < static_cast<off_t>(kHeaderSize)) {
    return sys::Fail("shm.header", name, EBADMSG,
                     fmt::format("segment is {} bytes, smaller than the {}-byte header (truncated?)",
                                 static_cast<long long>(st.st_size), kHeaderSize));
  }
  auto size = static_cast<std::size_t>(st.st_size);
  int prot = PROT_READ | ((options.read_only && !options.copy_on_write) ? 0 : PROT_WRITE);
  int flags = options.copy_on_write ? MAP_PRIVATE : MAP_SHARED;
  auto p = sys::Call(map_call, name, [&] { return ::mmap(nullptr, size, prot, flags, fd, 0); });
  if (!p) return std::unexpected(p.error());
  Segment seg;
  seg.kind_ = kind;
  seg.name_ = name;
  seg.base_ = static_cast<std::byte*>(*p);
  seg.size_ = size;
  auto h = ValidateHeader(seg.bytes(), options.expect, name);
  if (!h) return std::unexpected(h.error());  // ~Segment unmaps
  return seg;
}

sys::Result<Segment> Segment::AdoptNew(Kind kind, const std::string& name, void* base,
                                       std::size_t size, const CreateOptions& options) {
  Segment out;
  out.kind_ = kind;
  out.name_ = name;
  out.base_ = static_cast<std::byte*>(base);
  out.size_ = size;
  if (auto w = WriteHeader(out.bytes(), options.layout, options.layout_version); !w) {
    return std::unexpected(w.error());  // ~Segment unmaps; the caller removes the object
  }
  out.owner_ = true;
  return out;
}

sys::Result<Segment> Segment::MapNewFd(Kind kind, int fd, const std::string& name,
                                       std::size_t size, const CreateOptions& options) {
  if (auto r = sys::Retry("ftruncate", name, [&] { return ::ftruncate(fd, size); }); !r) {
    return std::unexpected(r.error());
  }
  auto p = sys::Call("mmap", name, [&] {
    return ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  });
  if (!p) return std::unexpected(p.error());
  return AdoptNew(kind, name, *p, size, options);
}

sys::Result<Segment> Segment::CreatePosix(std::string_view purpose, std::size_t payload_bytes,
                                          CreateOptions options) {
  auto name = audit::PosixName(purpose);
  if (!name) return std::unexpected(name.error());
  auto size = TotalSize(*name, payload_bytes);
  if (!size) return std::unexpected(size.error());
  auto fd = sys::Call("shm_open", *name, [&] {
    return ::shm_open(name->c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, options.mode);
  });
  if (!fd) return std::unexpected(fd.error());
  sys::Fd owned(*fd);
  Undo undo{[&] { ::shm_unlink(name->c_str()); }};
  auto out = MapNewFd(Kind::kPosix, owned.get(), *name, *size, options);
  if (out) undo.fn = nullptr;
  return out;
}

sys::Result<Segment> Segment::CreateFile(const std::string& path, std::size_t payload_bytes,
                                         CreateOptions options) {
  auto size = TotalSize(path, payload_bytes);
  if (!size) return std::unexpected(size.error());
  auto fd = sys::Retry("open", path, [&] {
    return ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, options.mode);
  });
  if (!fd) return std::unexpected(fd.error());
  sys::Fd owned(*fd);
  Undo undo{[&] { ::unlink(path.c_str()); }};
  auto out = MapNewFd(Kind::kFile, owned.get(), path, *size, options);
  if (out) undo.fn = nullptr;
  return out;
}

sys::Result<Segment> Segment::CreateSysv(std::string_view purpose, std::size_t payload_bytes,
                                         CreateOptions options) {
  auto size = TotalSize(purpose, payload_bytes);
  if (!size) return std::unexpected(size.error());
  auto id = sys::Call("shmget", fmt::format("IPC_PRIVATE ({})", purpose), [&] {
    return ::shmget(IPC_PRIVATE, *size, IPC_CREAT | IPC_EXCL | static_cast<int>(options.mode));
  });
  if (!id) return std::unexpected(id.error());
  std::string name = std::to_string(*id);
  if (auto r = audit::RegisterSysv(audit::SysvKind::kShm, *id, purpose); !r) {
    ::shmctl(*id, IPC_RMID, nullptr);
    return std::unexpected(r.error());
  }
  Undo undo{[&] {
    ::shmctl(*id, IPC_RMID, nullptr);
    (void)audit::UnregisterSysv(audit::SysvKind::kShm, *id);
  }};
  auto p = sys::Call("shmat", "sysv-shm " + name, [&] { return ::shmat(*id, nullptr, 0); });
  if (!p) return std::unexpected(p.error());
  auto out = AdoptNew(Kind::kSysv, name, *p, *size, options);
  if (!out) return out;
  out->sysv_id_ = *id;
  undo.fn = nullptr;
  return out;
}

sys::Result<Segment> Segment::AttachPosix(const std::string& name, AttachOptions options) {
  int oflag = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  auto fd = sys::Call("shm_open", name, [&] { return ::shm_open(name.c_str(), oflag, 0); });
  if (!fd) return std::unexpected(fd.error());
  sys::Fd owned(*fd);
  options.copy_on_write = false;
  return MapFd(Kind::kPosix, owned.get(), name, options, "mmap");
}

sys::Result<Segment> Segment::AttachFile(const std::string& path, AttachOptions options) {
  bool write = !options.read_only && !options.copy_on_write;
  auto fd = sys::Retry("open", path, [&] {
    return ::open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
  });
  if (!fd) return std::unexpected(fd.error());
  sys::Fd owned(*fd);
  return MapFd(Kind::kFile, owned.get(), path, options, "mmap");
}

sys::Result<Segment> Segment::AttachSysv(int id, AttachOptions options) {
  std::string object = "sysv-shm " + std::to_string(id);
  shmid_ds ds{};
  if (auto r = sys::Call("shmctl(IPC_STAT)", object, [&] { return ::shmctl(id, IPC_STAT, &ds); });
      !r) {
    return std::unexpected(r.error());
  }
  if (ds.shm_segsz < kHeaderSize) {
    return sys::Fail("shm.header", object, EBADMSG,
                     fmt::format("segment is {} bytes, smaller than the {}-byte header",
                                 ds.shm_segsz, kHeaderSize));
  }
  int flags = options.read_only ? SHM_RDONLY : 0;
  auto p = sys::Call("shmat", object, [&] { return ::shmat(id, nullptr, flags); });
  if (!p) return std::unexpected(p.error());
  Segment seg;
  seg.kind_ = Kind::kSysv;
  seg.name_ = std::to_string(id);
  seg.sysv_id_ = id;
  seg.base_ = static_cast<std::byte*>(*p);
  seg.size_ = ds.shm_segsz;
  auto h = ValidateHeader(seg.bytes(), options.expect, object);
  if (!h) return std::unexpected(h.error());
  return seg;
}

}  // namespace ipc::shm
