#include "stress/proc.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace stress {

namespace {
// The fields of a stat file (/proc/PID/stat, /proc/PID/task/TID/stat) after the command name
// (state first); "" when the task is gone.
std::string StatAfterName(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return {};
  char buf[512];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name in parentheses may itself hold ')' or spaces: the state follows the last ')'.
  const char* close = std::strrchr(buf, ')');
  if (!close || close[1] != ' ') return {};
  return close + 2;
}
std::string StatAfterName(pid_t pid) { return StatAfterName(fmt::format("/proc/{}/stat", pid)); }
}  // namespace

bool Running(pid_t pid) {
  std::string stat = StatAfterName(pid);
  return !stat.empty() && stat[0] != 'Z' && stat[0] != 'X';
}

bool Alive(pid_t pid) {
  constexpr unsigned kPfExiting = 0x4;  // include/linux/sched.h
  std::string stat = StatAfterName(pid);
  unsigned flags = 0;
  // state ppid pgrp session tty_nr tpgid flags
  if (stat.empty() || std::sscanf(stat.c_str(), "%*c %*d %*d %*d %*d %*d %u", &flags) != 1) return false;
  return stat[0] != 'Z' && stat[0] != 'X' && (flags & kPfExiting) == 0;
}

namespace {
// The SigBlk mask of one thread; ~0 when unreadable (treated as blocking everything).
unsigned long long BlockedMask(pid_t pid, pid_t tid) {
  std::FILE* f = std::fopen(fmt::format("/proc/{}/task/{}/status", pid, tid).c_str(), "r");
  if (!f) return ~0ull;
  char line[256];
  unsigned long long mask = ~0ull;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "SigBlk:", 7) == 0) {
      mask = std::strtoull(line + 7, nullptr, 16);
      break;
    }
  }
  std::fclose(f);
  return mask;
}

// se.exec_start of /proc/.../sched (CONFIG_SCHED_DEBUG): the run-queue clock, in ns, when the
// task last started running; nullopt when the kernel does not show it.
std::optional<std::uint64_t> ExecStart(const std::string& sched_path) {
  std::FILE* f = std::fopen(sched_path.c_str(), "r");
  if (!f) return std::nullopt;
  char line[256];
  std::optional<std::uint64_t> out;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "se.exec_start", 13) != 0) continue;
    const char* colon = std::strchr(line, ':');
    unsigned long long ms = 0, frac = 0;
    if (colon && std::sscanf(colon + 1, " %llu.%6llu", &ms, &frac) == 2) out = ms * 1'000'000 + frac;
    break;
  }
  std::fclose(f);
  return out;
}

}  // namespace

char StateLetter(const std::string& task_dir) {
  std::string stat = StatAfterName(task_dir + "/stat");
  return stat.empty() ? '?' : stat[0];
}

std::vector<pid_t> ThreadIds(pid_t pid, int accepting) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir(fmt::format("/proc/{}/task", pid).c_str());
  if (!dir) return out;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    auto tid = static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10));
    if (accepting > 0 && accepting <= 64 && (BlockedMask(pid, tid) >> (accepting - 1)) & 1) continue;
    out.push_back(tid);
  }
  ::closedir(dir);
  return out;
}

std::map<pid_t, std::uint64_t> RunDelays(pid_t pid) {
  std::map<pid_t, std::uint64_t> out;
  std::optional<std::uint64_t> now = ExecStart("/proc/thread-self/sched");  // we are running
  for (pid_t tid : ThreadIds(pid)) {
    std::FILE* f = std::fopen(fmt::format("/proc/{}/task/{}/schedstat", pid, tid).c_str(), "r");
    if (!f) continue;
    unsigned long long on_cpu = 0, run_delay = 0;
    if (std::fscanf(f, "%llu %llu", &on_cpu, &run_delay) == 2) out[tid] = run_delay;
    std::fclose(f);
    // run_delay grows only when a wait ends: a thread still queued is behind by its wait so far.
    if (!out.contains(tid) || !now || StateLetter(fmt::format("/proc/{}/task/{}", pid, tid)) != 'R') continue;
    // A task that has not run yet shows exec_start 0 (it is not behind by the machine's uptime).
    if (auto last = ExecStart(fmt::format("/proc/{}/task/{}/sched", pid, tid)); last && *last > 0 && *now > *last) {
      out[tid] += *now - *last;
    }
  }
  return out;
}

LoadAverage ReadLoadAverage() {
  LoadAverage load;
  load.cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load.one_minute) != 1) load.one_minute = -1;
    std::fclose(f);
  }
  return load;
}

}  // namespace stress
