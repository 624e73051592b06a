// lab/interpose/calls_exec.cc: exec and posix_spawn under the scheduler (see core.h).
//
// - exec (execve, execv, execvp, execvpe, execl, execle, execlp, fexecve) is a scheduling point;
//   the new image joins the same exploration as the same process and thread: the environment
//   it gets is the program's (or the one it passed) plus LD_PRELOAD with this library first, the
//   explorer's IPCLAB_EXPLORE_* settings and kJoinEnv, the descriptor of the scheduler segment
//   (a memfd, kept open across this exec only) and the thread's id. Its Init maps the segment
//   and goes on holding the baton; the process's other threads ended with the old image. A
//   failed exec returns its error, as the real call does, and the old image goes on.
// - posix_spawn/posix_spawnp: a scheduling point that creates a process of the tree like fork
//   (waitpid works on it); the child's image joins as its first thread and waits for its baton
//   before main. A spawn that fails (the program does not exist, cannot be executed) returns the
//   error as the real call does and leaves no process behind.
//
// Limits: an image that cannot load the library (a static or set-user-ID program; under a
// sanitizer config, a program built without that sanitizer) runs uncontrolled while the tree
// waits for it (--timeout ends the run); the steps of an image that is not the program's own
// executable name raw addresses, not lines; system() and popen() spawn inside glibc and their
// children run uncontrolled, as before; vfork and clone are not interposed.
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lab/interpose/core.h"

extern char** environ;

namespace lab::interpose::core {
namespace {

using ExecveFn = int (*)(const char*, char* const[], char* const[]);
using FexecveFn = int (*)(int, char* const[], char* const[]);
using SpawnFn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                        char* const[], char* const[]);

struct RealExec {
  ExecveFn execve, execvpe;
  FexecveFn fexecve;
  SpawnFn posix_spawn, posix_spawnp;
} rx;

void ResolveExec() {
  static std::atomic<bool> done{false};
  ResolveAll();
  if (done.load(std::memory_order_acquire)) return;
  Resolve(rx.execve, "execve");
  Resolve(rx.execvpe, "execvpe");
  Resolve(rx.fexecve, "fexecve");
  Resolve(rx.posix_spawn, "posix_spawn");
  Resolve(rx.posix_spawnp, "posix_spawnp");
  done.store(true, std::memory_order_release);
}

// This library's path, as the dynamic loader found it.
const char* LibraryPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&LibraryPath), &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

// The environment of an image that joins the exploration as thread `thread` (see the file
// comment), and the inheritable copy of the segment's descriptor it names. The descriptor is
// closed again by Release (the call failed, or it was a spawn: the child has its own copy).
class JoinEnvironment {
 public:
  JoinEnvironment(char* const* envp, std::uint32_t thread) {
    fd_ = static_cast<int>(syscall(SYS_fcntl, image.sched_fd, F_DUPFD, 1000L));
    std::string user_preload;
    for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
      std::string_view v(*e);
      if (v.starts_with("LD_PRELOAD=")) {
        user_preload = v.substr(11);
      } else if (!v.starts_with("IPCLAB_EXPLORE_")) {
        strings_.emplace_back(v);
      }
    }
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).starts_with("IPCLAB_EXPLORE_")) strings_.emplace_back(*e);
    }
    strings_.push_back(std::string("LD_PRELOAD=") + LibraryPath() + (user_preload.empty() ? "" : ":") +
                       user_preload);
    strings_.push_back(std::string(kJoinEnv) + "=" + std::to_string(fd_) + ":" + std::to_string(thread));
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  ~JoinEnvironment() { Release(); }
  JoinEnvironment(const JoinEnvironment&) = delete;
  JoinEnvironment& operator=(const JoinEnvironment&) = delete;

  bool ok() const { return fd_ >= 0; }
  char* const* envp() { return pointers_.data(); }
  void Release() {
    if (fd_ < 0) return;
    int saved = errno;
    syscall(SYS_close, fd_);
    errno = saved;
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

// An exec by `me`: `exec(envp)` is the real call with the joining environment.
template <typename Exec>
int ControlledExec(Thread* me, char* const* envp, Caller where, Exec exec) {
  Point(me, Call::kExec, 0, where);
  JoinEnvironment env(envp, me->id);
  if (!env.ok()) return exec(envp);  // no descriptor left: the new image runs uncontrolled
  int rc = exec(env.envp());
  int err = errno;
  RecordStep(me, Call::kExec, 0, where, -err);  // it failed: the old image goes on
  env.Release();
  errno = err;
  return rc;
}

// A posix_spawn by `me`: the child is a new process of the tree (see the file comment).
template <typename Spawn>
int ControlledSpawn(Thread* me, pid_t* pid, char* const* envp, Caller where, Spawn spawn) {
  Point(me, Call::kSpawn, 0, where);
  Thread* child = NewProcess(me->proc);
  const std::uint32_t child_proc = child->proc;
  JoinEnvironment env(envp, child->id);
  pid_t local = 0;
  int rc = env.ok() ? spawn(&local, env.envp()) : EMFILE;
  env.Release();
  if (rc != 0) {
    child->state = State::kDone;
    sched.procs[child_proc].exited = true;
    sched.procs[child_proc].reaped = true;
    RecordStep(me, Call::kSpawn, child_proc, where, -rc);
    return rc;
  }
  if (pid != nullptr) *pid = local;
  sched.procs[child_proc].pid = local;
  RecordStep(me, Call::kSpawn, child_proc, where, local);
  Schedule(me);
  return 0;
}

// exec of `file` (searched in PATH when `search`, as execvp does) by the caller at `ret`.
int Exec(const char* file, bool search, char* const* argv, char* const* envp, void* ret) {
  ResolveExec();
  auto exec = [&](char* const* e) { return search ? rx.execvpe(file, argv, e) : rx.execve(file, argv, e); };
  Thread* me = Me();
  if (me == nullptr) return exec(envp);
  return ControlledExec(me, envp, Here(ret), exec);
}

// The arguments of execl/execle/execlp after `arg0`, up to the terminating null pointer (and
// execle's envp after it).
std::vector<char*> ListArgs(const char* arg0, va_list ap, char*** envp) {
  std::vector<char*> argv{const_cast<char*>(arg0)};
  while (argv.back() != nullptr) argv.push_back(va_arg(ap, char*));
  if (envp != nullptr) *envp = va_arg(ap, char**);
  return argv;
}

// posix_spawn (posix_spawnp when `search`) by the caller at `ret`.
int Spawn(pid_t* pid, const char* file, bool search, const posix_spawn_file_actions_t* actions,
          const posix_spawnattr_t* attr, char* const* argv, char* const* envp, void* ret) {
  ResolveExec();
  auto spawn = [&](pid_t* p, char* const* e) {
    return (search ? rx.posix_spawnp : rx.posix_spawn)(p, file, actions, attr, argv, e);
  };
  Thread* me = Me();
  if (me == nullptr) return spawn(pid, envp);
  return ControlledSpawn(me, pid, envp, Here(ret), spawn);
}

}  // namespace
}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout

// Built with -fvisibility=hidden: only the interposed functions are exported.
#pragma GCC visibility push(default)
extern "C" {

int execve(const char* path, char* const argv[], char* const envp[]) {
  return Exec(path, false, argv, envp, __builtin_return_address(0));
}

int execv(const char* path, char* const argv[]) { return Exec(path, false, argv, environ, __builtin_return_address(0)); }

int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return Exec(file, true, argv, envp, __builtin_return_address(0));
}

int execvp(const char* file, char* const argv[]) { return Exec(file, true, argv, environ, __builtin_return_address(0)); }

int execl(const char* path, const char* arg0, ...) {
  va_list ap;
  va_start(ap, arg0);
  std::vector<char*> argv = ListArgs(arg0, ap, nullptr);
  va_end(ap);
  return Exec(path, false, argv.data(), environ, __builtin_return_address(0));
}

int execle(const char* path, const char* arg0, ...) {
  char** envp = nullptr;
  va_list ap;
  va_start(ap, arg0);
  std::vector<char*> argv = ListArgs(arg0, ap, &envp);
  va_end(ap);
  return Exec(path, false, argv.data(), envp, __builtin_return_address(0));
}

int execlp(const char* file, const char* arg0, ...) {
  va_list ap;
  va_start(ap, arg0);
  std::vector<char*> argv = ListArgs(arg0, ap, nullptr);
  va_end(ap);
  return Exec(file, true, argv.data(), environ, __builtin_return_address(0));
}

int fexecve(int fd, char* const argv[], char* const envp[]) {
  ResolveExec();
  auto exec = [&](char* const* e) { return rx.fexecve(fd, argv, e); };
  Thread* me = Me();
  if (me == nullptr) return exec(envp);
  return ControlledExec(me, envp, Here(__builtin_return_address(0)), exec);
}

int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions,
                const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  return Spawn(pid, path, false, actions, attr, argv, envp, __builtin_return_address(0));
}

int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
                 const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  return Spawn(pid, file, true, actions, attr, argv, envp, __builtin_return_address(0));
}

}  // extern "C"
#pragma GCC visibility pop
