// ipc/sys: the one system-call wrapper.
//
// Every system call ipclab makes goes through here. A failed call becomes a `SysError` value
// (never an exception, never a silent -1) that names the call, the object it acted on and errno,
// and prints as one readable line:
//
//   shm_open(/ipclab.4242.9f3a1c.ring): File exists [EEXIST]
//
// Usage:
//
//   ipc::sys::Result<int> fd = ipc::sys::Call("shm_open", name, [&] {
//     return ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
//   });
//   if (!fd) return std::unexpected(fd.error());
//
// EINTR is handled deliberately, never by accident:
//   - `Call` returns EINTR as an error (for callers that must see a signal, e.g. to stop);
//   - `Retry` restarts the call after EINTR (for calls with no timeout of their own);
//   - `RetryUntil` restarts it but gives up with ETIMEDOUT once the absolute deadline passes.
#pragma once

#include <cerrno>
#include <concepts>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ipc/sys/deadline.h"

namespace ipc::sys {

// A failed system call (or a check ipclab makes on data another process controls).
struct SysError {
  std::string call;    // "shm_open", "pthread_mutex_lock", "header.validate"
  std::string object;  // the name, path, fd ("fd 7") or description it acted on
  int err = 0;         // errno value (or the code a pthread_* call returned)
  std::string detail;  // optional: what ipclab expected, e.g. "magic 0x1234 != 0x4950434c"

  // "call(object): strerror [ENAME]" plus ": detail" when there is one.
  std::string message() const;
  // The symbolic errno name, "EEXIST"; "E?" for an unknown value.
  std::string_view errno_name() const;
};

template <class T>
using Result = std::expected<T, SysError>;
using Status = Result<void>;

// Builds the error for `call` on `object` from the current errno (or an explicit code).
SysError Error(std::string_view call, std::string_view object, int err = errno,
               std::string_view detail = {});
inline std::unexpected<SysError> Fail(std::string_view call, std::string_view object,
                                      int err = errno, std::string_view detail = {}) {
  return std::unexpected(Error(call, object, err, detail));
}

// Describes an fd as an object name: "fd 7".
std::string FdName(int fd);

namespace internal {
template <class R>
bool IsFailure(R r) {
  if constexpr (std::is_pointer_v<R>) {
    return r == reinterpret_cast<R>(-1) || r == nullptr;  // mmap's MAP_FAILED, sem_open's SEM_FAILED
  } else {
    return r == static_cast<R>(-1);
  }
}
}  // namespace internal

// Runs `fn` once; a return of -1 (or MAP_FAILED/SEM_FAILED/nullptr for pointer results) with
// errno set becomes a SysError. EINTR is returned to the caller as an error.
template <class F>
auto Call(std::string_view call, std::string_view object, F&& fn)
    -> Result<std::invoke_result_t<F>> {
  errno = 0;
  auto r = std::forward<F>(fn)();
  if (internal::IsFailure(r)) return Fail(call, object, errno);
  return r;
}

// As Call, but restarts `fn` after EINTR.
template <class F>
auto Retry(std::string_view call, std::string_view object, F&& fn)
    -> Result<std::invoke_result_t<F>> {
  for (;;) {
    errno = 0;
    auto r = fn();
    if (!internal::IsFailure(r)) return r;
    if (errno != EINTR) return Fail(call, object, errno);
  }
}

// As Retry, but once `deadline` has passed an EINTR becomes ETIMEDOUT. `fn` receives the
// deadline so it can pass the remaining time (or the absolute time) to the timed call.
template <class F>
auto RetryUntil(std::string_view call, std::string_view object, Deadline deadline, F&& fn)
    -> Result<std::invoke_result_t<F, Deadline>> {
  for (;;) {
    errno = 0;
    auto r = fn(deadline);
    if (!internal::IsFailure(r)) return r;
    if (errno != EINTR) return Fail(call, object, errno);
    if (deadline.expired()) return Fail(call, object, ETIMEDOUT);
  }
}

// For pthread_* and posix_spawn-style calls that return an error code instead of setting errno.
inline Status CheckCode(std::string_view call, std::string_view object, int code) {
  if (code != 0) return Fail(call, object, code);
  return {};
}

}  // namespace ipc::sys
