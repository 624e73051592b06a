#include "ipc/sys/sys.h"

#include <string.h>

#include <fmt/format.h>

namespace ipc::sys {

std::string_view SysError::errno_name() const {
  const char* name = ::strerrorname_np(err);
  return name ? std::string_view(name) : std::string_view("E?");
}

std::string SysError::message() const {
  const char* desc = ::strerrordesc_np(err);
  std::string out = fmt::format("{}({}): {} [{}]", call, object,
                                desc ? desc : "unknown error", errno_name());
  if (!detail.empty()) out += fmt::format(": {}", detail);
  return out;
}

SysError Error(std::string_view call, std::string_view object, int err,
               std::string_view detail) {
  return SysError{std::string(call), std::string(object), err, std::string(detail)};
}

std::string FdName(int fd) { return fmt::format("fd {}", fd); }

}  // namespace ipc::sys
