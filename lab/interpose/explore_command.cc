#include "lab/interpose/explore_command.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"
#include "ipc/sys/sys.h"
#include "lab/interpose/result_file.h"
#include "lab/report/html.h"
#include "lab/report/report.h"
#include "lab/report/token.h"
#include "lab/strategy/dfs.h"
#include "lab/strategy/strategy.h"

namespace lab::interpose {
namespace {

constexpr std::size_t kReportSteps = 40;

struct Outcome {
  std::string kind;                 // empty: the run passed
  std::string summary;
  std::vector<std::string> details; // raw diagnosis lines (addresses not yet resolved)
  std::vector<std::uint32_t> choices;
  std::vector<std::uint16_t> alternatives, current;  // per recorded choice (see ResultFile)
  std::vector<StepRecord> steps;    // the last kReportSteps, oldest first
  std::uint64_t total_steps = 0;
  std::string stderr_tail;
  std::uint32_t threads = 0;
  std::uint32_t processes = 1;
  std::uint32_t faults = 0;
  std::vector<std::uint16_t> thread_proc, thread_local_index;
  bool started = false;
  bool exec_failed = false;
  bool access_points = false;       // the program was built with tools/ipclab-cc
};

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// The program as execvp would find it, or "" when it cannot be run.
std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    struct stat st;
    if (stat(name.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !IsExecutable(name)) return "";
    return name;
  }
  const char* path = getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (IsExecutable(candidate)) return candidate;
  }
  return "";
}

std::string SelfDir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<std::size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// The preload library: $IPCLAB_INTERPOSE_LIB, the runfiles, or bazel-bin next to this binary.
std::string FindLibrary() {
  const std::string rel = "lab/interpose/libipclab_interpose.so";
  std::vector<std::string> candidates;
  if (const char* env = getenv("IPCLAB_INTERPOSE_LIB"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  if (const char* rf = getenv("RUNFILES_DIR"); rf != nullptr) candidates.push_back(std::string(rf) + "/ipclab/" + rel);
  if (const char* src = getenv("TEST_SRCDIR"); src != nullptr) candidates.push_back(std::string(src) + "/ipclab/" + rel);
  char buf[PATH_MAX];
  if (ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1); n > 0) {
    std::string exe(buf, static_cast<std::size_t>(n));
    candidates.push_back(exe + ".runfiles/ipclab/" + rel);
  }
  std::string dir = SelfDir();
  candidates.push_back(dir + "/../" + rel);      // bazel-bin/tools/ipclab -> bazel-bin/lab/...
  candidates.push_back(dir + "/../../" + rel);   // bazel-bin/lab/interpose/x_test
  for (const auto& c : candidates) {
    if (access(c.c_str(), R_OK) == 0) {
      char real[PATH_MAX];
      return realpath(c.c_str(), real) != nullptr ? std::string(real) : c;
    }
  }
  return "";
}

std::string ReadTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.size() > max_bytes) all = "..." + all.substr(all.size() - max_bytes);
  return all;
}

// The objects of `h.created` that still exist, described; each is removed.
std::vector<std::string> RemoveLeftovers(const ResultHeader& h) {
  std::vector<std::string> leaked;
  for (std::uint32_t i = 0; i < std::min(h.created_count, kMaxCreated); ++i) {
    const CreatedObject& c = h.created[i];
    std::string name(c.name, strnlen(c.name, sizeof c.name));
    std::string base = name.starts_with("/") ? name.substr(1) : name;
    switch (static_cast<ObjectType>(c.type)) {
      case ObjectType::kShm:
        if (access(("/dev/shm/" + base).c_str(), F_OK) == 0) {
          leaked.push_back(fmt::format("POSIX shared memory {} (shm_open; /dev/shm/{})", name, base));
          shm_unlink(name.c_str());
        }
        break;
      case ObjectType::kSem:
        if (access(("/dev/shm/sem." + base).c_str(), F_OK) == 0) {
          leaked.push_back(fmt::format("named semaphore {} (sem_open; /dev/shm/sem.{})", name, base));
          sem_unlink(name.c_str());
        }
        break;
      case ObjectType::kMq: {
        mqd_t q = mq_open(name.c_str(), O_RDONLY | O_NONBLOCK);
        if (q != static_cast<mqd_t>(-1)) {
          mq_close(q);
          leaked.push_back(fmt::format("message queue {} (mq_open)", name));
          mq_unlink(name.c_str());
        }
        break;
      }
      case ObjectType::kSysvShm: {
        struct shmid_ds ds;
        if (shmctl(c.sysv_id, IPC_STAT, &ds) == 0) {
          leaked.push_back(fmt::format("SysV shared memory segment id {} (shmget)", c.sysv_id));
          shmctl(c.sysv_id, IPC_RMID, nullptr);
        }
        break;
      }
      case ObjectType::kSysvSem: {
        struct semid_ds ds;
        if (semctl(c.sysv_id, 0, IPC_STAT, &ds) == 0) {
          leaked.push_back(fmt::format("SysV semaphore set id {} (semget)", c.sysv_id));
          semctl(c.sysv_id, 0, IPC_RMID);
        }
        break;
      }
      case ObjectType::kSysvMsg: {
        struct msqid_ds ds;
        if (msgctl(c.sysv_id, IPC_STAT, &ds) == 0) {
          leaked.push_back(fmt::format("SysV message queue id {} (msgget)", c.sysv_id));
          msgctl(c.sysv_id, IPC_RMID, nullptr);
        }
        break;
      }
    }
  }
  return leaked;
}

// How the library schedules one run (IPCLAB_EXPLORE_* in its environment).
struct RunSpec {
  std::string strategy;            // random | pct | dfs | replay
  std::uint64_t seed = 0;
  std::uint64_t pct_k = 0;         // the longest schedule seen so far (PCT's k)
  int pct_depth = 3;
  std::string faults;              // "kill,signal" or a part of it
  bool faults_each_point = false;  // a fault choice at every point (dfs and its tokens)
};

// Runs the program once. `file` is the mapped result file (already holding magic and replay).
ipc::sys::Result<Outcome> RunOnce(const ExploreOptions& o, const std::string& program,
                                  const std::string& library, const ipc::audit::PrivateDir& dir,
                                  ResultFile* file, const RunSpec& spec) {
  std::memset(&file->header.choice_count, 0,
              sizeof(ResultHeader) - offsetof(ResultHeader, choice_count));
  const std::string result_path = dir.file("result");
  const std::string out_path = dir.file("stdout");
  const std::string err_path = dir.file("stderr");
  std::string preload = library;
  if (const char* old = getenv("LD_PRELOAD"); old != nullptr && *old != '\0') preload += std::string(":") + old;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v(*e);
    if (v.starts_with("LD_PRELOAD=") || v.starts_with("IPCLAB_EXPLORE_") || v.starts_with("IPCLAB_NAIVE_")) continue;
    env_strings.emplace_back(v);
  }
  env_strings.push_back("LD_PRELOAD=" + preload);
  if (!o.naive) {
    env_strings.push_back("IPCLAB_EXPLORE_RESULT=" + result_path);
    env_strings.push_back("IPCLAB_EXPLORE_STRATEGY=" + spec.strategy);
    env_strings.push_back(fmt::format("IPCLAB_EXPLORE_SEED={}", spec.seed));
    env_strings.push_back(fmt::format("IPCLAB_EXPLORE_PCT_K={}", spec.pct_k));
    env_strings.push_back(fmt::format("IPCLAB_EXPLORE_PCT_DEPTH={}", spec.pct_depth));
    if (!spec.faults.empty()) env_strings.push_back("IPCLAB_EXPLORE_FAULTS=" + spec.faults);
    if (spec.faults_each_point) env_strings.push_back("IPCLAB_EXPLORE_FAULTS_EACH_POINT=1");
  } else if (o.jitter) {
    env_strings.push_back(fmt::format("IPCLAB_NAIVE_JITTER={}", spec.seed | 1));
  }
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = o.command;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  auto pid = ipc::sys::Call("fork", program, [] { return fork(); });
  if (!pid) return std::unexpected(pid.error());
  if (*pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    setpgid(0, 0);
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  // Wait with a real-time limit; a pidfd makes the wait a poll.
  int status = 0;
  bool timed_out = false;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, *pid, 0));
  const int timeout_ms = static_cast<int>(o.timeout_seconds * 1000);
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    auto polled = ipc::sys::Retry("poll", "pidfd", [&] { return poll(&p, 1, timeout_ms); });
    if (polled && *polled == 0) timed_out = true;
    close(pidfd);
  } else {
    auto start = std::chrono::steady_clock::now();
    while (waitpid(*pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(timeout_ms)) {
        timed_out = true;
        break;
      }
      usleep(1000);
    }
  }
  if (timed_out) kill(-*pid, SIGKILL), kill(*pid, SIGKILL);
  if (auto w = ipc::sys::Retry("waitpid", program, [&] { return waitpid(*pid, &status, 0); }); !w) {
    if (w.error().err != ECHILD) return std::unexpected(w.error());
  }
  // Processes the program forked and left behind (orphans, a tree ended by a hang) go with it.
  kill(-*pid, SIGKILL);

  Outcome r;
  const ResultHeader& h = file->header;
  r.started = h.started != 0;
  r.access_points = h.access_points != 0;
  r.threads = h.threads;
  r.processes = std::max<std::uint32_t>(h.processes, 1);
  r.faults = h.faults;
  const std::uint32_t recorded = std::min(h.threads, kMaxThreadRecords);
  r.thread_proc.assign(h.thread_proc, h.thread_proc + recorded);
  r.thread_local_index.assign(h.thread_local_index, h.thread_local_index + recorded);
  std::uint32_t nchoices = std::min(h.choice_count, kMaxChoices);
  r.choices.assign(file->choices, file->choices + nchoices);
  r.alternatives.assign(file->choice_alternatives, file->choice_alternatives + nchoices);
  r.current.assign(file->choice_current, file->choice_current + nchoices);
  r.total_steps = h.step_count;
  std::uint64_t first = r.total_steps > kReportSteps ? r.total_steps - kReportSteps : 0;
  for (std::uint64_t i = first; i < r.total_steps; ++i) r.steps.push_back(file->steps[i % kMaxSteps]);
  r.stderr_tail = ReadTail(err_path, 2000);

  const bool exited = WIFEXITED(status);
  const int code = exited ? WEXITSTATUS(status) : -1;
  if (exited && code == 127 && !r.started && r.stderr_tail.empty()) {
    r.exec_failed = true;
    return r;
  }
  auto kind = static_cast<RunKind>(h.kind);
  bool sanitizer = r.stderr_tail.find("Sanitizer") != std::string::npos ||
                   r.stderr_tail.find("runtime error:") != std::string::npos;
  // A hang found in any process of the tree ends the whole tree (the first process may then die
  // of SIGKILL): the kind in the result file decides.
  if (h.crashed_proc != 0 && h.crashed_signal != 0 && (kind != RunKind::kNone || (exited && code == 0))) {
    // A child died of a signal nobody chose (an assert, a crash): reported before a hang it
    // caused; the first process's own failure (its assert, exit status) comes first otherwise.
    const int sig = h.crashed_signal;
    r.kind = sig == SIGABRT ? "assertion-failure" : "crash";
    r.summary = fmt::format("child process p{} died of signal {} ({}); no fault was injected into it", h.crashed_proc,
                            sig, strsignal(sig));
    if (auto at = r.stderr_tail.find("Assertion"); sig == SIGABRT && at != std::string::npos) {
      auto begin = r.stderr_tail.rfind('\n', at);
      auto end = r.stderr_tail.find('\n', at);
      r.summary = fmt::format("child process p{}: {}", h.crashed_proc,
                              r.stderr_tail.substr(begin == std::string::npos ? 0 : begin + 1,
                                                   end == std::string::npos ? std::string::npos : end - begin - 1));
    }
    std::stringstream lines(h.diagnosis);
    for (std::string line; std::getline(lines, line);) r.details.push_back("then: " + line);
  } else if (kind == RunKind::kDeadlock || kind == RunKind::kLostWakeup || kind == RunKind::kHang) {
    r.kind = kind == RunKind::kDeadlock ? "deadlock" : kind == RunKind::kLostWakeup ? "lost-wakeup" : "hang";
    r.summary = kind == RunKind::kDeadlock
                    ? "no thread can run: every live thread waits for another (see the wait-for state)"
                : kind == RunKind::kLostWakeup
                    ? "a thread waits on a condition variable whose signal came while nobody waited"
                    : "no thread can run: a thread waits on a pipe, socket, queue or signal nobody will write to, send or close";
    std::stringstream lines(h.diagnosis);
    for (std::string line; std::getline(lines, line);) r.details.push_back(line);
  } else if (kind == RunKind::kDataRace) {
    r.kind = "data-race";
    r.summary = "two threads access the same memory, at least one writes, and nothing orders the two accesses";
    std::stringstream lines(h.diagnosis);
    for (std::string line; std::getline(lines, line);) r.details.push_back(line);
  } else if (kind == RunKind::kStarvation) {
    r.kind = "starvation";
    r.summary = "a waiting thread is overtaken again and again and never gets the lock it waits for";
    std::stringstream lines(h.diagnosis);
    for (std::string line; std::getline(lines, line);) r.details.push_back(line);
  } else if (kind == RunKind::kTooManyThreads) {
    r.kind = "crash";
    r.summary = "the program created more threads than the interposition library controls (512)";
  } else if (timed_out) {
    r.kind = "hang";
    r.summary = fmt::format("the run did not end within {}s{}", o.timeout_seconds,
                            o.naive ? "" : " (a loop without scheduling points, or a call the library does not interpose)");
  } else if (sanitizer) {
    r.kind = "sanitizer-report";
    r.summary = "the program's sanitizer reported an error (stderr below)";
  } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) {
    r.kind = "assertion-failure";
    r.summary = "the program aborted (assert or abort)";
    if (auto at = r.stderr_tail.find("Assertion"); at != std::string::npos) {
      auto begin = r.stderr_tail.rfind('\n', at);
      auto end = r.stderr_tail.find('\n', at);
      r.summary = r.stderr_tail.substr(begin == std::string::npos ? 0 : begin + 1,
                                       end == std::string::npos ? std::string::npos : end - begin - 1);
    }
  } else if (WIFSIGNALED(status)) {
    r.kind = "crash";
    r.summary = fmt::format("the program died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else if (code != 0) {
    r.kind = "invariant-violation";
    r.summary = fmt::format("the program exited with status {} (its own check failed)", code);
  } else if (h.crashed_proc != 0) {
    const int sig = h.crashed_signal;
    r.kind = sig == SIGABRT ? "assertion-failure" : "crash";
    r.summary = fmt::format("child process p{} died of {} (no fault was injected into it)", h.crashed_proc,
                            sig != 0 ? fmt::format("signal {} ({})", sig, strsignal(sig)) : std::string("a signal"));
  }
  // Leaks: the named IPC objects the program created that are still there. Removed either way,
  // so the next run starts clean (a program that creates with O_EXCL would fail otherwise).
  std::vector<std::string> leaked = RemoveLeftovers(h);
  if (r.kind.empty() && !leaked.empty()) {
    r.kind = "ipc-leak";
    r.summary = fmt::format("the run left {} IPC object{} behind", leaked.size(), leaked.size() == 1 ? "" : "s");
    for (const auto& l : leaked) r.details.push_back("left behind: " + l);
  }
  return r;
}

// addr2line for the executable's offsets: "function at file:line" per return address.
std::map<std::uint64_t, std::string> Symbolize(const std::string& program, const std::vector<std::uint64_t>& offsets) {
  std::map<std::uint64_t, std::string> names;
  if (offsets.empty()) return names;
  // -i: a call inlined into the program's function (std::mutex::lock into a lock_guard in
  // Worker) is named by its outermost frame, the program's own line.
  std::string cmd = "addr2line -C -f -p -i -e '" + program + "'";
  for (auto off : offsets) cmd += fmt::format(" {:#x}", off > 0 ? off - 1 : 0);
  cmd += " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return names;
  char line[1024];
  std::vector<std::string> frames(offsets.size());
  std::size_t i = 0;
  bool any = false;
  while (fgets(line, sizeof line, p) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    const bool inlined = s.starts_with(" (inlined by) ");
    if (inlined) s = s.substr(14);
    if (!inlined && any) ++i;
    any = true;
    if (i >= offsets.size()) break;
    // Keep "func at file:line" but drop the directory of the file.
    if (auto at = s.find(" at "); at != std::string::npos) {
      std::string file = s.substr(at + 4);
      if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
      s = s.substr(0, at) + " at " + file;
    }
    if (s.find("??") == std::string::npos) frames[i] = s;  // the outermost frame wins
  }
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    if (!frames[k].empty()) names[offsets[k]] = frames[k];
  }
  pclose(p);
  return names;
}

std::string Where(const std::map<std::uint64_t, std::string>& names, std::uint64_t offset, bool in_exe) {
  if (in_exe) {
    if (auto it = names.find(offset); it != names.end()) return it->second;
    return fmt::format("exe+{:#x}", offset);
  }
  return offset == 0 ? "" : fmt::format("{:#x} (outside the program: a library)", offset);
}

// Replaces "@exe:<hex>" and "@abs:<hex>" in a diagnosis line by file:line.
std::string ResolveLine(const std::string& line, const std::map<std::uint64_t, std::string>& names) {
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    bool exe = line.compare(i, 5, "@exe:") == 0, abs = line.compare(i, 5, "@abs:") == 0;
    if (!exe && !abs) {
      out += line[i++];
      continue;
    }
    std::size_t j = i + 5;
    while (j < line.size() && std::isxdigit(static_cast<unsigned char>(line[j]))) ++j;
    std::uint64_t v = std::strtoull(line.substr(i + 5, j - i - 5).c_str(), nullptr, 16);
    out += "at " + Where(names, v, exe);
    i = j;
  }
  return out;
}

std::vector<std::uint64_t> ExeOffsets(const Outcome& r) {
  std::vector<std::uint64_t> offs;
  for (const auto& s : r.steps) {
    if (s.caller_in_exe) offs.push_back(s.caller_offset);
  }
  for (const auto& d : r.details) {
    for (std::size_t at = d.find("@exe:"); at != std::string::npos; at = d.find("@exe:", at + 1)) {
      offs.push_back(std::strtoull(d.c_str() + at + 5, nullptr, 16));
    }
  }
  std::sort(offs.begin(), offs.end());
  offs.erase(std::unique(offs.begin(), offs.end()), offs.end());
  return offs;
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// "T3" for a single-process run, "p1.t0" once the program forked.
std::string ThreadName(const Outcome& r, std::uint32_t id) {
  if (r.processes <= 1 || id >= r.thread_proc.size()) return fmt::format("T{}", id);
  return fmt::format("p{}.t{}", r.thread_proc[id], r.thread_local_index[id]);
}

std::string ObjectName(std::uint64_t key) {
  if ((key >> 61) == 3) return fmt::format("socket:[{}]", key & 0xffffffffffffull);
  if ((key >> 62) == 1) return fmt::format("pipe:[{}]", key & 0xffffffffffffull);
  if ((key >> 63) == 1) return fmt::format("shared:{:#x}", key);
  return fmt::format("{:#x}", key);
}

std::string StepObject(const Outcome& r, const StepRecord& s) {
  auto call = static_cast<Call>(s.call);
  switch (call) {
    case Call::kCreate: return ThreadName(r, static_cast<std::uint32_t>(s.object));
    case Call::kJoin:
      return s.object == 0xffffffffu ? "uncontrolled thread" : ThreadName(r, static_cast<std::uint32_t>(s.object));
    case Call::kFork: return s.value != 0 ? fmt::format("-> p{}, pid {}", s.object, s.value) : "";
    case Call::kSpawn:
      return s.value > 0 ? fmt::format("-> p{}, pid {}", s.object, s.value)
             : s.value < 0 ? fmt::format("failed: {}", strerror(static_cast<int>(-s.value)))
                           : "";
    case Call::kExec: return s.value < 0 ? fmt::format("failed: {}", strerror(static_cast<int>(-s.value))) : "";
    case Call::kWaitpid: return fmt::format("{}", static_cast<std::int64_t>(s.object));
    case Call::kProcessExit: return fmt::format("pid {}, status {}", s.object, s.value);
    case Call::kKillFault: return fmt::format("p{}, pid {}", s.object, s.value);
    case Call::kSignalFault: return ThreadName(r, static_cast<std::uint32_t>(s.object));
    case Call::kKill: return fmt::format("pid {}, signal {}", static_cast<std::int64_t>(s.object), s.value);
    case Call::kRead:
      return s.value == -EINTR ? ObjectName(s.object) + " = EINTR" : ObjectName(s.object);
    default: break;
  }
  // The kernel-object waits of calls_wait.cc record a signal's interruption like read().
  if (s.value == -EINTR && call >= Call::kMqSend && call != Call::kKill) return ObjectName(s.object) + " = EINTR";
  if (s.object == 0) return "";
  return ObjectName(s.object);
}

}  // namespace

int RunExplore(const ExploreOptions& o, std::ostream& out, std::ostream& err) {
  if (o.command.empty()) {
    err << "ipclab explore: no program given (usage: ipclab explore [options] -- ./program args)\n";
    return 2;
  }
  if (o.strategy != "random" && o.strategy != "pct" && o.strategy != "dfs") {
    err << "ipclab explore: --strategy must be random, pct or dfs, not '" << o.strategy << "'\n";
    return 2;
  }
  if (o.preemption_bound >= 0 && o.strategy != "dfs") {
    err << "ipclab explore: --preemption-bound is for --strategy dfs\n";
    return 2;
  }
  if (o.pct_depth < 1) {
    err << "ipclab explore: --pct-depth must be at least 1\n";
    return 2;
  }
  // Faults: "kill", "signal" or both, comma-separated; in the token as "<strategy>-kill-signal".
  std::vector<std::string> fault_list;
  {
    std::stringstream in(o.faults);
    for (std::string f; std::getline(in, f, ',');) {
      if (f.empty()) continue;
      if (f != "kill" && f != "signal") {
        err << "ipclab explore: --faults takes kill and/or signal (comma-separated), not '" << f << "'\n";
        return 2;
      }
      if (std::find(fault_list.begin(), fault_list.end(), f) == fault_list.end()) fault_list.push_back(f);
    }
    std::sort(fault_list.begin(), fault_list.end());
  }
  std::optional<ReplayToken> replay;
  if (!o.replay.empty()) {
    auto t = DecodeToken(o.replay);
    if (!t) {
      err << "ipclab explore: --replay: " << t.error() << "\n";
      return 2;
    }
    replay = *t;
    // The token's faults replace --faults: the same choice points must exist.
    fault_list.clear();
    std::stringstream in(replay->strategy);
    std::string part;
    std::getline(in, part, '-');
    while (std::getline(in, part, '-')) fault_list.push_back(part);
  }
  std::string faults_env, faults_suffix;
  for (const auto& f : fault_list) {
    faults_env += (faults_env.empty() ? "" : ",") + f;
    faults_suffix += "-" + f;
  }
  const std::string program = FindProgram(o.command[0]);
  if (program.empty()) {
    err << "ipclab explore: cannot run '" << o.command[0] << "': not an executable file\n";
    return 2;
  }
  const std::string library = o.library.empty() ? FindLibrary() : o.library;
  if (library.empty() || access(library.c_str(), R_OK) != 0) {
    err << "ipclab explore: libipclab_interpose.so not found (build //lab/interpose:libipclab_interpose.so "
           "or set IPCLAB_INTERPOSE_LIB)\n";
    return 2;
  }
  auto dir = ipc::audit::PrivateDir::Create("explore");
  if (!dir) {
    err << "ipclab explore: " << dir.error().message() << "\n";
    return 2;
  }
  const std::string result_path = dir->file("result");
  int fd = open(result_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(kResultFileSize)) != 0) {
    err << "ipclab explore: " << ipc::sys::Error(fd < 0 ? "open" : "ftruncate", result_path).message() << "\n";
    if (fd >= 0) close(fd);
    return 2;
  }
  void* map = mmap(nullptr, kResultFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    err << "ipclab explore: " << ipc::sys::Error("mmap", result_path).message() << "\n";
    return 2;
  }
  auto* file = static_cast<ResultFile*>(map);
  file->header.magic = kResultMagic;

  std::ofstream schedule_log;
  if (!o.schedule_log.empty()) {
    schedule_log.open(o.schedule_log, std::ios::trunc);
    if (!schedule_log) {
      err << "ipclab explore: --schedule-log: cannot write " << o.schedule_log << "\n";
      munmap(map, kResultFileSize);
      return 2;
    }
  }
  // dfs: the search tree lives here; each run is a fresh process tree that follows the tree's
  // prefix, then keeps running the current thread, and reports every choice point it met.
  const bool dfs = !replay && !o.naive && o.strategy == "dfs";  // the baseline ignores the strategy
  lab::DfsTree tree(o.preemption_bound < 0 ? -1 : o.preemption_bound);
  std::uint64_t diverged = 0;  // runs that did not follow their prefix (a nondeterministic program)
  const std::uint64_t runs_wanted = replay ? 1 : std::max<std::uint64_t>(o.budget, 1);
  std::uint64_t runs = 0, bugs = 0, pct_k = 0, found_at = 0;
  std::optional<Outcome> first_bug;
  std::string bug_strategy;
  std::uint64_t bug_seed = 0;
  bool access_points = false;
  std::map<std::string, std::uint64_t> kinds;
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < runs_wanted && !(dfs && tree.Exhausted()); ++i) {
    RunSpec spec{.strategy = o.strategy, .seed = lab::Mix64(o.seed + i), .pct_k = pct_k,
                 .pct_depth = o.pct_depth, .faults = faults_env,
                 .faults_each_point = replay ? replay->strategy.starts_with("dfs") : dfs};
    std::vector<std::uint32_t> forced;
    if (replay) {
      spec.strategy = "replay";
      spec.seed = replay->seed;
      forced = replay->choices;
    } else if (dfs) {
      spec.seed = o.seed;
      forced = tree.Prefix();
    }
    const std::uint32_t n = std::min<std::uint32_t>(static_cast<std::uint32_t>(forced.size()), kMaxChoices);
    std::copy_n(forced.begin(), n, file->choices);
    file->header.replay_count = n;
    auto r = RunOnce(o, program, library, *dir, file, spec);
    if (!r) {
      err << "ipclab explore: " << r.error().message() << "\n";
      munmap(map, kResultFileSize);
      return 2;
    }
    if (r->exec_failed) {
      err << "ipclab explore: cannot run '" << o.command[0] << "' (exec failed)\n";
      munmap(map, kResultFileSize);
      return 2;
    }
    ++runs;
    if (dfs) {
      tree.Begin();
      bool followed = true;
      for (std::size_t k = 0; k < r->choices.size(); ++k) {
        lab::DfsPoint point;
        point.count = std::max<std::size_t>(r->alternatives[k], 1);
        if (r->current[k] != kNoCurrent) point.current = r->current[k];
        followed = tree.Next(point, r->choices[k]) == r->choices[k] && followed;
      }
      tree.End();
      if (!followed) ++diverged;
    }
    if (schedule_log.is_open()) {
      for (std::size_t k = 0; k < r->choices.size(); ++k) schedule_log << (k ? " " : "") << r->choices[k];
      schedule_log << "\n";
    }
    access_points = access_points || r->access_points;
    pct_k = std::max<std::uint64_t>(pct_k, r->choices.size());
    // IPC objects the run left behind under its own session (names carry the pid).
    if (r->kind.empty()) {
      // The session pid of an unmodified program is its own pid; we only know it as the child's.
    }
    if (!r->kind.empty()) {
      ++bugs;
      ++kinds[r->kind];
      if (!first_bug) {
        first_bug = std::move(*r);
        found_at = i + 1;
        bug_strategy = replay ? replay->strategy : o.strategy + faults_suffix;
        bug_seed = spec.seed;
        // The report is what matters; the baseline (and --keep-going) counts every failure.
        if (!o.naive && !o.keep_going) break;
      }
    }
  }
  munmap(map, kResultFileSize);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double per_second = secs > 0 ? static_cast<double>(runs) / secs : 0;

  std::string cmdline;
  for (const auto& a : o.command) cmdline += " " + ShellQuote(a);
  nlohmann::json j;
  std::string text;
  if (first_bug) {
    const Outcome& b = *first_bug;
    auto names = Symbolize(program, ExeOffsets(b));
    std::string token, replay_cmd;
    if (!o.naive) {
      token = replay ? o.replay : EncodeToken({kTokenVersion, bug_strategy, bug_seed, b.choices});
      replay_cmd = "ipclab explore --replay " + token + " --" + cmdline;
    }
    text += fmt::format("{}: {}\n", b.kind, b.summary);
    text += fmt::format("  program:{}\n", cmdline);
    if (o.naive) {
      text += fmt::format("  found by the naive baseline{} in run {} of {}\n", o.jitter ? " (random sleeps)" : "", found_at, runs_wanted);
    } else if (replay) {
      text += fmt::format("  replayed schedule of {} choices ({} recorded)\n", b.choices.size(), replay->choices.size());
    } else {
      text += fmt::format("  found by {} (seed {:#x}) in schedule {} of {}; {} controlled threads in {} process{}, {} choices{}\n",
                          bug_strategy, bug_seed, found_at, runs_wanted, b.threads, b.processes,
                          b.processes == 1 ? "" : "es", b.choices.size(),
                          b.faults > 0 ? fmt::format(", {} fault injected", b.faults) : "");
    }
    j["kind"] = b.kind;
    j["summary"] = b.summary;
    nlohmann::json details = nlohmann::json::array();
    for (const auto& d : b.details) {
      std::string line = ResolveLine(d, names);
      text += "  " + line + "\n";
      details.push_back(line);
    }
    j["details"] = details;
    nlohmann::json steps = nlohmann::json::array();
    if (!b.steps.empty()) {
      text += fmt::format("  last {} of {} steps ({}):\n", b.steps.size(), b.total_steps,
                          b.access_points ? "synchronization calls and memory accesses are scheduling points"
                                          : "synchronization calls only: build with tools/ipclab-cc for memory-access points");
      std::uint64_t index = b.total_steps - b.steps.size();
      for (const auto& s : b.steps) {
        std::string op = kCallNames[std::min<int>(s.call, static_cast<int>(Call::kCount) - 1)];
        std::string object = StepObject(b, s);
        std::string where = static_cast<Call>(s.call) == Call::kStart ? "" : Where(names, s.caller_offset, s.caller_in_exe != 0);
        const std::string thread = ThreadName(b, s.thread);
        text += fmt::format("    #{:<4} {:<6} {}({}){}{}\n", index, thread, op, object, where.empty() ? "" : "  at ", where);
        steps.push_back({{"step", index}, {"thread", thread}, {"op", op}, {"object", object}, {"where", where}});
        ++index;
      }
    }
    j["steps"] = steps;
    if (!b.stderr_tail.empty()) {
      text += "  program stderr (end):\n";
      std::stringstream lines(b.stderr_tail);
      for (std::string line; std::getline(lines, line);) text += "    | " + line + "\n";
    }
    j["stderr"] = b.stderr_tail;
    if (!o.naive) {
      text += "  replay: " + replay_cmd + "\n";
      j["token"] = token;
      j["replay_command"] = replay_cmd;
      j["choices"] = b.choices;
    }
    j["found_in_run"] = found_at;
  } else {
    j["kind"] = nullptr;
    if (replay) text += "the replayed schedule ran clean (the program changed since the token was recorded?)\n";
  }
  std::string kinds_text;
  for (const auto& [k, n] : kinds) kinds_text += fmt::format("{}{} {}", kinds_text.empty() ? "" : ", ", n, k);
  std::string mode = o.naive ? (o.jitter ? "naive+jitter" : "naive") : (replay ? "replay" : o.strategy);
  if (!replay && o.strategy == "pct") mode += fmt::format(" d={}", o.pct_depth);
  const std::string bound_text = o.preemption_bound < 0 ? std::string("(no preemption bound)")
                                                        : fmt::format("within preemption bound {}", o.preemption_bound);
  if (dfs) {
    mode += o.preemption_bound < 0 ? "" : fmt::format(" bound {}", o.preemption_bound);
    if (!first_bug && tree.Exhausted()) {
      text += fmt::format("explored all {} schedules {}: no bug\n", runs, bound_text);
    } else if (!first_bug) {
      text += fmt::format("dfs: the budget of {} schedules ended before all schedules {} were explored\n",
                          runs_wanted, bound_text);
    }
    if (diverged > 0) {
      text += fmt::format("dfs: {} run{} did not follow {} prefix (the program is not deterministic under control: "
                          "the counts are not exact)\n", diverged, diverged == 1 ? "" : "s", diverged == 1 ? "its" : "their");
    }
    j["exhausted"] = tree.Exhausted();
    j["diverged"] = diverged;
    j["preemption_bound"] = o.preemption_bound;
  }
  text += fmt::format("ipclab explore: {} runs, {:.1f} schedules/s, {} bug{} found{} [{}, seed {}; {}]\n", runs,
                      per_second, bugs, bugs == 1 ? "" : "s", kinds_text.empty() ? "" : " (" + kinds_text + ")",
                      mode, o.seed, access_points ? "memory-access points" : "synchronization calls only");
  j["access_points"] = access_points;
  if (!o.html.empty()) {
    HtmlOptions h;
    h.title = "ipclab explore:" + cmdline;
    h.facts = {{"program", cmdline.substr(1)}, {"mode", mode}, {"runs", fmt::format("{}", runs)},
               {"schedules per second", fmt::format("{:.1f}", per_second)},
               {"bugs", fmt::format("{}{}", bugs, kinds_text.empty() ? "" : " (" + kinds_text + ")")},
               {"seed", fmt::format("{}", o.seed)}};
    std::vector<Report> reports;
    if (first_bug) {
      const Outcome& b = *first_bug;
      auto names = Symbolize(program, ExeOffsets(b));
      Report r;
      r.kind = b.kind;
      r.summary = b.summary;
      r.details = j["details"].get<std::vector<std::string>>();
      const std::uint64_t first_step = b.total_steps - b.steps.size();
      if (first_step > 0) {
        r.details.push_back(fmt::format("(the timeline shows the last {} of {} steps; its step 0 is step {} of the run)",
                                        b.steps.size(), b.total_steps, first_step));
      }
      if (!b.stderr_tail.empty()) {
        r.details.push_back("program stderr (end):");
        std::stringstream lines(b.stderr_tail);
        for (std::string line; std::getline(lines, line);) r.details.push_back("  | " + line);
      }
      // Steps renumbered from 0 (a Report's steps are indices into its schedule); the last step
      // of each thread is where it stopped, the steps that matter for a hang or a crash.
      std::map<std::uint32_t, std::size_t> last_of;
      for (std::size_t i = 0; i < b.steps.size(); ++i) {
        const StepRecord& s = b.steps[i];
        ReportStep rs;
        rs.step = i;
        rs.thread = s.thread;
        rs.thread_name = ThreadName(b, s.thread);
        rs.op = kCallNames[std::min<int>(s.call, static_cast<int>(Call::kCount) - 1)];
        rs.object = StepObject(b, s);
        rs.where = static_cast<Call>(s.call) == Call::kStart ? "" : Where(names, s.caller_offset, s.caller_in_exe != 0);
        rs.value = s.value;
        r.schedule.push_back(std::move(rs));
        last_of[s.thread] = i;
      }
      std::uint32_t threads = b.threads;
      for (const auto& [t, _] : last_of) threads = std::max(threads, t + 1);
      for (std::uint32_t t = 0; t < threads; ++t) {
        r.thread_names.push_back(ThreadName(b, t));
        // One lane group per process once the program forked (threads are numbered in creation
        // order, so a process's threads need not be adjacent: the page groups runs of them).
        if (b.processes > 1 && t < b.thread_proc.size()) {
          r.thread_processes.push_back(fmt::format("p{}", b.thread_proc[t]));
        }
      }
      if (r.thread_processes.size() != r.thread_names.size()) r.thread_processes.clear();
      for (const auto& [t, i] : last_of) r.key_steps.push_back(i);
      std::sort(r.key_steps.begin(), r.key_steps.end());
      for (StepIndex k : r.key_steps) r.schedule[k].matters = true;
      r.strategy = bug_strategy;
      r.seed = bug_seed;
      r.execution = found_at ? found_at - 1 : 0;
      r.original_choices = r.shrunk_choices = b.choices.size();
      r.choices = b.choices;
      if (!o.naive) {
        r.token = replay ? o.replay : EncodeToken({kTokenVersion, bug_strategy, bug_seed, b.choices});
        r.replay_command = "ipclab explore --replay " + r.token + " --" + cmdline;
      }
      reports.push_back(std::move(r));
    }
    if (auto w = WriteHtmlFile(o.html, RenderHtml(std::span<const Report>(reports), h)); !w) {
      err << "ipclab explore: --html: " << w.error() << "\n";
      return 2;
    }
  }
  j["runs"] = runs;
  j["schedules_per_second"] = per_second;
  j["bugs"] = bugs;
  j["mode"] = mode;
  j["seed"] = o.seed;
  j["budget"] = runs_wanted;
  j["faults"] = faults_env;
  if (o.json) {
    out << j.dump() << "\n";
  } else {
    out << text;
  }
  return first_bug ? 1 : 0;
}

std::function<int()> SetupExploreCommand(CLI::App& sub) {
  auto o = std::make_shared<ExploreOptions>();
  sub.add_option("--budget", o->budget, "schedules to run (default 1000)");
  sub.add_option("--strategy", o->strategy,
                 "random, pct or dfs (default random); dfs runs every schedule once, depth-first, "
                 "until the space is exhausted or the budget ends");
  sub.add_option("--preemption-bound", o->preemption_bound,
                 "dfs: explore only schedules with at most N preemptions (default: no bound)");
  sub.add_option("--pct-depth", o->pct_depth, "pct: the bug depth d (d-1 priority change points; default 3)");
  sub.add_flag("--keep-going", o->keep_going,
               "run the whole budget and count every failing schedule (the report is the first one's)");
  sub.add_option("--schedule-log", o->schedule_log, "write each run's choices to FILE, one line per run")
      ->type_name("FILE");
  sub.add_option("--seed", o->seed, "seed of the exploration (default 1)");
  sub.add_option("--replay", o->replay, "run the one schedule of this replay token");
  sub.add_flag("--json", o->json, "print the result as one JSON object");
  sub.add_option("--html", o->html, "also write the report as a self-contained HTML page to FILE")
      ->type_name("FILE");
  sub.add_option("--timeout", o->timeout_seconds, "real seconds a run may take (default 10)");
  sub.add_flag("--naive", o->naive, "baseline: run uncontrolled, classify failures the same way");
  sub.add_flag("--jitter", o->jitter, "with --naive: random 0-100us sleeps before each interposed call");
  sub.add_option("--library", o->library, "the preload library (default: found next to ipclab)");
  sub.add_option("--faults", o->faults,
                 "faults as scheduling choices: kill (SIGKILL a child process), signal (SIGUSR1 into a "
                 "blocked read), or kill,signal; off by default");
  sub.add_option("command", o->command, "the program and its arguments (after --)")->required();
  return [o] { return RunExplore(*o, std::cout, std::cerr); };
}

}  // namespace lab::interpose
