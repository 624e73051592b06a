#include "problems/exercises/check_command.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/sys/sys.h"
#include "problems/exercises/exercise.h"

namespace exercises {
namespace {

constexpr int kExitPass = 0;
constexpr int kExitFinding = 1;
constexpr int kExitUsage = 2;
constexpr std::string_view kFlagsFile = "problems/exercises/kit.flags";

std::string Names() {
  std::string out;
  for (const Exercise& e : All()) out += (out.empty() ? "" : ", ") + e.name;
  return out;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The directory holding the kit (kit.flags, the archives and the headers, by repository path).
std::string FindKitRoot() {
  std::vector<std::string> roots;
  if (const char* env = std::getenv("IPCLAB_EXERCISE_KIT"); env != nullptr && *env != '\0') {
    roots.push_back(env);
  }
  if (const char* rf = std::getenv("RUNFILES_DIR"); rf != nullptr) {
    roots.push_back(std::string(rf) + "/ipclab");
  }
  if (const char* src = std::getenv("TEST_SRCDIR"); src != nullptr) {
    roots.push_back(std::string(src) + "/ipclab");
  }
  char buf[PATH_MAX];
  if (ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1); n > 0) {
    roots.push_back(std::string(buf, static_cast<std::size_t>(n)) + ".runfiles/ipclab");
  }
  for (const std::string& r : roots) {
    if (IsFile(r + "/" + std::string(kFlagsFile))) return r;
  }
  return "";
}

struct Kit {
  std::string root;
  std::vector<std::string> copts, archives, linkopts;
  bool pic = true;
};

std::optional<Kit> LoadKit(const std::string& root) {
  std::ifstream in(root + "/" + std::string(kFlagsFile));
  if (!in) return std::nullopt;
  Kit kit;
  kit.root = root;
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string key = line.substr(0, space), value = line.substr(space + 1);
    if (key == "copt") kit.copts.push_back(value);
    if (key == "archive") kit.archives.push_back(root + "/" + value);
    if (key == "linkopt") kit.linkopts.push_back(value);
    if (key == "pic") kit.pic = value == "1";
  }
  return kit;
}

// execvp's search: the compiler as given, or on PATH.
std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct Exit {
  bool timed_out = false;
  int status = 0;
};

// Runs `argv` with this process's stdout and stderr, for at most `timeout` seconds (then kills
// its process group).
ipc::sys::Result<Exit> RunProgram(const std::vector<std::string>& args, double timeout) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& s : copy) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::cout.flush();
  auto pid = ipc::sys::Call("fork", args[0], [] { return fork(); });
  if (!pid) return std::unexpected(pid.error());
  if (*pid == 0) {
    setpgid(0, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Exit e;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  for (;;) {
    auto w = ipc::sys::Retry("waitpid", args[0], [&] { return waitpid(*pid, &e.status, WNOHANG); });
    if (!w) return std::unexpected(w.error());
    if (*w == *pid) return e;
    if (std::chrono::steady_clock::now() > deadline) {
      e.timed_out = true;
      kill(-*pid, SIGKILL);
      kill(*pid, SIGKILL);
      auto reaped = ipc::sys::Retry("waitpid", args[0], [&] { return waitpid(*pid, &e.status, 0); });
      if (!reaped) return std::unexpected(reaped.error());
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int Usage(std::ostream& err, const std::string& what) {
  err << "ipclab check: " << what << "\n";
  return kExitUsage;
}

}  // namespace

int RunCheck(const CheckOptions& o, std::ostream& out, std::ostream& err) {
  if (o.list) {
    out << fmt::format("{:<22} {:<20} {}\n", "exercise", "starter's bug", "what you build");
    for (const Exercise& e : All()) out << fmt::format("{:<22} {:<20} {}\n", e.name, e.kind, e.title);
    return kExitPass;
  }
  if (o.exercise.empty() || o.file.empty()) {
    return Usage(err, fmt::format("usage: ipclab check EXERCISE FILE.cc (exercises: {})", Names()));
  }
  const Exercise* e = Find(o.exercise);
  if (e == nullptr) {
    return Usage(err, fmt::format("unknown exercise '{}'; exercises are: {}", o.exercise, Names()));
  }
  if (!IsFile(o.file) || access(o.file.c_str(), R_OK) != 0) {
    return Usage(err, fmt::format("cannot read '{}' (give the .cc file with your solution)", o.file));
  }
  const std::string root = FindKitRoot();
  std::optional<Kit> kit = root.empty() ? std::nullopt : LoadKit(root);
  if (!kit) {
    return Usage(err, "the grading kit (problems/exercises/kit.flags) is not in this binary's "
                      "runfiles; run tools/ipclab check, or set IPCLAB_EXERCISE_KIT");
  }
  const char* cxx_env = std::getenv("IPCLAB_CXX");
  const std::string cxx_name = cxx_env != nullptr && *cxx_env != '\0' ? cxx_env : "clang++-19";
  const std::string cxx = FindProgram(cxx_name);
  if (cxx.empty()) {
    return Usage(err, fmt::format("no compiler '{}' on PATH (install clang-19, or set IPCLAB_CXX)",
                                  cxx_name));
  }
  auto dir = ipc::audit::PrivateDir::Create("check");
  if (!dir) return Usage(err, dir.error().message());
  const std::string program = dir->file("graded");

  // Compile and link in one step; the compiler's diagnostics go straight to the user.
  std::vector<std::string> args = {cxx};
  args.insert(args.end(), kit->copts.begin(), kit->copts.end());
  args.insert(args.end(), {"-std=c++23", "-I" + kit->root, "-O1", "-g", "-Wall", "-Wextra",
                           "-Wthread-safety", kit->pic ? "-fPIC" : "-fno-pic"});
  args.insert(args.end(), {"-x", "c++", o.file, "-x", "none", "-o", program});
  if (!kit->pic) args.push_back("-no-pie");
  args.push_back("-Wl,--start-group");
  args.insert(args.end(), kit->archives.begin(), kit->archives.end());
  args.push_back("-Wl,--end-group");
  args.insert(args.end(), kit->linkopts.begin(), kit->linkopts.end());
  args.push_back("-pthread");
  auto compiled = RunProgram(args, 600);
  if (!compiled) return Usage(err, compiled.error().message());
  if (compiled->timed_out || !WIFEXITED(compiled->status) || WEXITSTATUS(compiled->status) != 0) {
    return Usage(err, fmt::format("{} does not compile or link (the compiler's errors are above)",
                                  o.file));
  }

  std::vector<std::string> run = {program, e->name, o.file, "--seed", std::to_string(o.seed)};
  if (!o.replay.empty()) run.insert(run.end(), {"--replay", o.replay});
  if (o.explain) run.push_back("--explain");
  if (o.json) run.push_back("--json");
  if (!o.html.empty()) {
    // The page shows source lines: the student's file is found from here, the harness in the kit.
    run.insert(run.end(), {"--html", o.html, "--source-root", ".", "--source-root", kit->root});
  }
  auto ran = RunProgram(run, o.timeout_seconds);
  if (!ran) return Usage(err, ran.error().message());
  if (ran->timed_out) {
    out << fmt::format("FAIL {} {}: hang\n  the graded program ran for {} s without finishing "
                       "(code that loops without calling any lab:: operation never lets the "
                       "scheduler run another thread)\n",
                       e->name, o.file, o.timeout_seconds);
    return kExitFinding;
  }
  if (WIFSIGNALED(ran->status)) {
    const int sig = WTERMSIG(ran->status);
    out << fmt::format("FAIL {} {}: crash\n  the graded program died of signal {} ({}); run it "
                       "under a debugger, or look for a use after free or a null pointer\n",
                       e->name, o.file, sig, strsignal(sig));
    return kExitFinding;
  }
  const int code = WEXITSTATUS(ran->status);
  return code <= kExitUsage ? code : kExitFinding;
}

std::function<int()> SetupCheckCommand(CLI::App& sub) {
  auto o = std::make_shared<CheckOptions>();
  sub.add_option("exercise", o->exercise, "the exercise (docs/exercises/, or `ipclab check --list`)");
  sub.add_option("file", o->file, "your solution: one .cc file that defines the exercise's factory");
  sub.add_option("--seed", o->seed, "first PCT seed (default 1); same seed, same schedules");
  sub.add_option("--replay", o->replay, "run only the schedule of this token (printed by a failure)")
      ->type_name("TOKEN");
  sub.add_flag("--explain", o->explain, "add the teaching text for the kind of bug found");
  sub.add_flag("--json", o->json, "print the grade as one JSON object");
  sub.add_flag("--list", o->list, "list the exercises");
  sub.add_option("--html", o->html,
                 "also write the grade as one self-contained HTML page: the bug's interleaving as "
                 "swimlanes with the source lines, or what was explored")
      ->type_name("PAGE.html");
  sub.add_option("--timeout", o->timeout_seconds,
                 "seconds the graded program may run before it is a `hang` (default 300)")
      ->check(CLI::PositiveNumber);
  sub.footer(
      "DESCRIPTION\n  Compile FILE.cc against the lab:: facade and the exercise's harness (which "
      "states the invariant; your file cannot change it), explore it with PCT and then DFS "
      "bounded by preemptions under the exercise's budget, and pass it or show the first bug "
      "as a report with the command that replays its schedule. Time is adversarial: a sleep "
      "ends after any other thread's next step, so a fix that only makes a bug rarer fails.\n\n"
      "EXIT STATUS\n  0 passed; 1 a bug was found; 2 usage error, or the file does not compile "
      "(the compiler's errors are shown).\n\n"
      "EXAMPLES\n  ipclab check --list\n"
      "  ipclab check lost_update docs/exercises/lost_update/starter.cc\n"
      "  ipclab check lost_wakeup my_event.cc --explain --html lost_wakeup.html");
  return [o] { return RunCheck(*o, std::cout, std::cerr); };
}

}  // namespace exercises
