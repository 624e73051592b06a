#include "ipc/audit/names.h"

#include <dirent.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace ipc::audit {
namespace {

bool ValidPurpose(std::string_view p) {
  if (p.empty() || p.size() > 32) return false;
  for (char c : p) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RandomHex() {
  unsigned char bytes[6];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
    // getrandom on a urandom source only fails with EINTR before it has any bytes; retry.
  }
  return fmt::format("{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

}  // namespace

pid_t SessionPid() {
  static const pid_t pid = ::getpid();
  return pid;
}

sys::Result<std::string> UniqueName(std::string_view purpose) {
  if (!ValidPurpose(purpose)) {
    return sys::Fail("ipc::audit::UniqueName", purpose, EINVAL,
                     "purpose must be 1-32 characters of [a-z0-9_-]");
  }
  return fmt::format("{}.{}.{}.{}", kPrefix, SessionPid(), RandomHex(), purpose);
}

sys::Result<std::string> PosixName(std::string_view purpose) {
  auto n = UniqueName(purpose);
  if (!n) return n;
  return "/" + *n;
}

std::optional<ParsedName> ParseName(std::string_view name) {
  if (name.starts_with('/')) name.remove_prefix(1);
  if (name.starts_with("sem.")) name.remove_prefix(4);
  if (!name.starts_with(kPrefix) || name.size() <= kPrefix.size() || name[kPrefix.size()] != '.') {
    return std::nullopt;
  }
  name.remove_prefix(kPrefix.size() + 1);
  auto dot1 = name.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  auto dot2 = name.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  ParsedName out;
  std::string_view pid = name.substr(0, dot1);
  auto [ptr, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), out.pid);
  if (ec != std::errc() || ptr != pid.data() + pid.size() || out.pid <= 0) return std::nullopt;
  out.random = std::string(name.substr(dot1 + 1, dot2 - dot1 - 1));
  if (out.random.size() != 12) return std::nullopt;
  for (char c : out.random) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  out.purpose = std::string(name.substr(dot2 + 1));
  if (!ValidPurpose(out.purpose)) return std::nullopt;
  return out;
}

std::string TempRoot() {
  for (const char* var : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v && *v) return v;
  }
  return "/tmp";
}

sys::Result<PrivateDir> PrivateDir::Create(std::string_view purpose) {
  auto name = UniqueName(purpose);
  if (!name) return std::unexpected(name.error());
  std::string path = TempRoot() + "/" + *name;
  auto r = sys::Call("mkdir", path, [&] { return ::mkdir(path.c_str(), 0700); });
  if (!r) return std::unexpected(r.error());
  return PrivateDir(std::move(path));
}

PrivateDir::~PrivateDir() {
  if (!path_.empty()) (void)RemoveTree(path_);
}

std::string PrivateDir::file(std::string_view file) const {
  return fmt::format("{}/{}", path_, file);
}

sys::Status RemoveTree(const std::string& path) {
  sys::Status status;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string child = path + "/" + std::string(n);
      struct stat st{};
      if (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        auto s = RemoveTree(child);
        if (!s && status) status = s;
      } else if (::unlink(child.c_str()) != 0 && errno != ENOENT && status) {
        status = sys::Fail("unlink", child);
      }
    }
    ::closedir(d);
  }
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT && status) status = sys::Fail("rmdir", path);
  return status;
}

std::string_view SysvKindName(SysvKind kind) {
  switch (kind) {
    case SysvKind::kShm: return "shm";
    case SysvKind::kSem: return "sem";
    case SysvKind::kMsg: return "msg";
  }
  return "?";
}

std::string SysvRegistryDir() { return fmt::format("/dev/shm/{}-sysv.{}", kPrefix, ::getuid()); }

sys::Result<std::string> SysvEntryName(const SysvEntry& e) {
  if (!ValidPurpose(e.purpose)) {
    return sys::Fail("ipc::audit::SysvEntryName", e.purpose, EINVAL,
                     "purpose must be 1-32 characters of [a-z0-9_-]");
  }
  if (e.id < 0 || e.pid <= 0) {
    return sys::Fail("ipc::audit::SysvEntryName", fmt::format("id {}", e.id), EINVAL,
                     "id must be >= 0 and pid > 0");
  }
  return fmt::format("{}.{}.{}.{}.{}.{}", SysvKindName(e.kind), e.id, e.ctime, e.ipc_namespace,
                     e.pid, e.purpose);
}

namespace {
template <class T>
bool ParseNumber(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

std::optional<SysvEntry> ParseSysvEntryName(std::string_view file) {
  std::string_view parts[6];
  for (int i = 0; i < 5; ++i) {
    auto dot = file.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    parts[i] = file.substr(0, dot);
    file.remove_prefix(dot + 1);
  }
  parts[5] = file;
  SysvEntry e;
  if (parts[0] == "shm") {
    e.kind = SysvKind::kShm;
  } else if (parts[0] == "sem") {
    e.kind = SysvKind::kSem;
  } else if (parts[0] == "msg") {
    e.kind = SysvKind::kMsg;
  } else {
    return std::nullopt;
  }
  if (!ParseNumber(parts[1], e.id) || e.id < 0) return std::nullopt;
  if (!ParseNumber(parts[2], e.ctime)) return std::nullopt;
  if (!ParseNumber(parts[3], e.ipc_namespace)) return std::nullopt;
  if (!ParseNumber(parts[4], e.pid) || e.pid <= 0) return std::nullopt;
  if (!ValidPurpose(parts[5])) return std::nullopt;
  e.purpose = std::string(parts[5]);
  return e;
}

unsigned long long IpcNamespace() {
  struct stat st{};
  if (::stat("/proc/self/ns/ipc", &st) != 0) return 0;
  return static_cast<unsigned long long>(st.st_ino);
}

}  // namespace ipc::audit
