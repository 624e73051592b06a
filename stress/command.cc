#include "stress/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ipc/audit/leaks.h"
#include "ipc/signal/signal.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"
#include "lab/report/html.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;

// "10m", "30s", "500ms", "2h", "45" (seconds). std::nullopt when malformed.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& s) {
  static const std::regex kRe(R"(^(\d+)(ms|s|m|h)?$)");
  std::smatch m;
  if (!std::regex_match(s, m, kRe)) return std::nullopt;
  long long n = std::stoll(m[1]);
  std::string unit = m[2];
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  return std::chrono::seconds(n);
}

struct Options {
  bool list = false;
  std::string target;
  std::string duration = "10s";
  std::uint64_t seed = 0;
  bool seed_given = false;
  int jobs = 1;
  bool json = false;
  std::string html;
};

std::string Rerun(const std::string& target, std::chrono::milliseconds round, std::uint64_t seed) {
  return fmt::format("ipclab stress {} --duration {}ms --seed {} --jobs 1", target, round.count(), seed);
}

// One job: rounds until `total` is spent, one JSON line per round to `out`; stops at a finding.
int Job(const Target& target, int job, int jobs, std::uint64_t seed, std::chrono::milliseconds total,
        std::chrono::milliseconds round, bool progress, int out) {
  auto until = std::chrono::steady_clock::now() + total;
  for (std::uint64_t k = 0;; ++k) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    auto len = std::min(left, round);
    std::uint64_t s = seed + static_cast<std::uint64_t>(job) + k * static_cast<std::uint64_t>(jobs);
    RunReport r = RunTarget(target, s, len, Rerun(target.name, len, s), progress);
    std::string line = r.Json() + "\n";
    if (!ipc::sys::Retry("write", "stress job pipe", [&] { return ::write(out, line.data(), line.size()); })) return 3;
    if (!r.clean()) break;
  }
  return 0;
}

int List() {
  for (const auto& t : AllTargets()) {
    if (t.planted) {
      std::printf("%-34s planted bug, expects %s (twin: %s)\n%-34s %s\n", t.name.c_str(), t.expected_kind.c_str(),
                  t.twin.c_str(), "", t.description.c_str());
    } else {
      std::printf("%-34s %s\n", t.name.c_str(), t.description.c_str());
    }
  }
  return 0;
}

int Campaign(const Options& o) {
  const Target* target = FindTarget(o.target);
  if (!target) {
    std::vector<std::string> names;
    for (const auto& t : AllTargets()) names.push_back(t.name);
    std::fprintf(stderr, "ipclab stress: no target '%s' (valid: %s)\n", o.target.c_str(), fmt::format("{}", fmt::join(names, ", ")).c_str());
    return 2;
  }
  auto total = ParseDuration(o.duration);
  if (!total || *total < 100ms) {
    std::fprintf(stderr, "ipclab stress: --duration '%s' is not a duration of at least 100ms (e.g. 500ms, 30s, 10m, 1h)\n", o.duration.c_str());
    return 2;
  }
  if (o.jobs < 1 || o.jobs > 64) {
    std::fprintf(stderr, "ipclab stress: --jobs %d must be between 1 and 64\n", o.jobs);
    return 2;
  }
  std::uint64_t seed = o.seed;
  if (!o.seed_given) {
    if (::getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = static_cast<std::uint64_t>(::getpid());
    seed &= 0xffffffffull;
  }
  auto round = std::min<std::chrono::milliseconds>(*total, 30s);
  std::fprintf(stderr, "ipclab stress %s: seed %llu, %d job(s), %lld ms\n", target->name.c_str(),
               static_cast<unsigned long long>(seed), o.jobs, static_cast<long long>(total->count()));

  struct JobState {
    std::optional<ipc::signal::Child> child;
    ipc::sys::Fd read;
    std::string buffer;
    bool open = true;
  };
  std::vector<JobState> jobs(o.jobs);
  std::vector<pid_t> job_pids;
  for (int j = 0; j < o.jobs; ++j) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      std::fprintf(stderr, "ipclab stress: pipe2: %s\n", std::strerror(errno));
      return 2;
    }
    int wr = fds[1];
    bool progress = o.jobs == 1 && ::isatty(2);
    auto child = ipc::signal::Child::Fork([&, j, wr, progress] {
      return Job(*target, j, o.jobs, seed, *total, round, progress, wr);
    });
    ::close(wr);
    if (!child) {
      std::fprintf(stderr, "ipclab stress: fork: %s\n", child.error().message().c_str());
      return 2;
    }
    jobs[j].read = ipc::sys::Fd(fds[0]);
    job_pids.push_back(child->pid());
    jobs[j].child.emplace(std::move(*child));
  }

  // Aggregate the rounds as they come in.
  nlohmann::json findings = nlohmann::json::array();
  std::map<std::string, std::uint64_t> sums;
  const char* kSummed[] = {"operations", "crashes_injected", "kills_injected", "crash_point_kills", "respawns",
                           "signals_sent", "signals_delivered", "signals_to_threads", "thread_signals_delivered",
                           "rt_values_delivered", "recoveries", "messages_lost", "leaks"};
  double min_jain = 1;
  int runs = 0;
  auto started = std::chrono::steady_clock::now();
  auto take = [&](const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return;
    ++runs;
    for (const char* k : kSummed) sums[k] += j.value(k, std::uint64_t{0});
    min_jain = std::min(min_jain, j.value("jain_index", 1.0));
    for (auto f : j["findings"]) {
      f["seed"] = j["seed"];
      f["rerun"] = j["rerun"];
      f["after_seconds"] = j.value("first_finding_seconds", -1.0);  // into its round
      findings.push_back(f);
    }
  };
  for (;;) {
    std::vector<pollfd> fds;
    for (auto& js : jobs) {
      if (js.open) fds.push_back({js.read.get(), POLLIN, 0});
    }
    if (fds.empty()) break;
    auto ready = ipc::sys::Retry("poll", "stress jobs", [&] { return ::poll(fds.data(), fds.size(), 1000); });
    if (!ready) break;
    for (auto& js : jobs) {
      if (!js.open) continue;
      pollfd* p = nullptr;
      for (auto& f : fds) {
        if (f.fd == js.read.get()) p = &f;
      }
      if (!p || !(p->revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      auto n = ipc::sys::Retry("read", "stress job pipe", [&] { return ::read(js.read.get(), buf, sizeof buf); });
      if (!n || *n == 0) {
        js.open = false;
        continue;
      }
      js.buffer.append(buf, static_cast<std::size_t>(*n));
      for (auto nl = js.buffer.find('\n'); nl != std::string::npos; nl = js.buffer.find('\n')) {
        take(js.buffer.substr(0, nl));
        js.buffer.erase(0, nl + 1);
      }
    }
    if (o.jobs > 1 || !::isatty(2)) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::fprintf(stderr, "\rstress %s: %.0f/%.0f s, %d runs, %llu ops, %llu crashes, %llu signals, %zu findings   ",
                   target->name.c_str(), secs, std::chrono::duration<double>(*total).count(), runs,
                   static_cast<unsigned long long>(sums["operations"]),
                   static_cast<unsigned long long>(sums["crashes_injected"]),
                   static_cast<unsigned long long>(sums["signals_sent"]), findings.size());
    }
  }
  std::fprintf(stderr, "\n");
  for (auto& js : jobs) {
    auto st = js.child->Wait(ipc::sys::Deadline::After(30s));
    if (!st || !st->ok()) {
      findings.push_back({{"kind", "crash"},
                          {"summary", "a stress job ended badly: " + (st ? st->Describe() : st.error().message())},
                          {"details", ""}, {"seed", seed}, {"rerun", Rerun(target->name, round, seed)}});
    }
  }
  // Whatever a job's session left behind (a job killed mid-run) is reaped and counted.
  for (const auto& obj : ipc::audit::ListObjects()) {
    if (obj.session_alive || std::find(job_pids.begin(), job_pids.end(), obj.session_pid) == job_pids.end()) continue;
    ++sums["leaks"];
    (void)ipc::audit::Remove(obj);
    findings.push_back({{"kind", "ipc-leak"}, {"summary", "left by a stress job: " + ipc::audit::Describe(obj)},
                        {"details", "reaped"}, {"seed", seed}, {"rerun", Rerun(target->name, round, seed)}});
  }

  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!o.html.empty()) {
    // The campaign's findings as report pages: kind, summary, details and the rerun command (a
    // stress finding has no schedule: the timeline says so).
    lab::HtmlOptions h;
    h.title = "ipclab stress " + target->name;
    h.subtitle = target->description;
    h.facts = {{"seed", fmt::format("{}", seed)}, {"jobs", fmt::format("{}", o.jobs)},
               {"time", fmt::format("{:.1f} s", secs)}, {"runs", fmt::format("{}", runs)},
               {"min Jain index", fmt::format("{:.3f}", min_jain)}};
    for (const char* k : kSummed) h.facts.emplace_back(k, fmt::format("{}", sums[k]));
    std::vector<lab::Report> reports;
    for (const auto& f : findings) {
      lab::Report r;
      r.kind = f.value("kind", "");
      r.summary = f.value("summary", "");
      std::string details = f.contains("details") && f["details"].is_string() ? f["details"].get<std::string>() : "";
      std::stringstream lines(details);
      for (std::string line; std::getline(lines, line);) r.details.push_back(line);
      r.details.push_back(fmt::format("seed {}, {:.2f} s into its round", f.value("seed", std::uint64_t{0}),
                                      f.value("after_seconds", -1.0)));
      r.replay_command = f.value("rerun", "");
      reports.push_back(std::move(r));
    }
    if (auto w = lab::WriteHtmlFile(o.html, lab::RenderHtml(std::span<const lab::Report>(reports), h)); !w) {
      std::fprintf(stderr, "ipclab stress: --html: %s\n", w.error().c_str());
      return 2;
    }
  }
  if (o.json) {
    nlohmann::json j;
    j["target"] = target->name;
    j["seed"] = seed;
    j["jobs"] = o.jobs;
    j["seconds"] = secs;
    j["runs"] = runs;
    for (const char* k : kSummed) j[k] = sums[k];
    j["min_jain_index"] = min_jain;
    j["findings"] = findings;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s: %.0f s, %d runs, %llu ops, %llu crashes injected (%llu kills, %llu at crash points), "
                "%llu respawns, %llu signals sent (%llu to single threads) / %llu delivered (%llu on non-main "
                "threads, %llu real-time values intact), %llu recoveries, %llu messages lost (documented), "
                "%llu leaks, min Jain index %.3f\n",
                target->name.c_str(), secs, runs, static_cast<unsigned long long>(sums["operations"]),
                static_cast<unsigned long long>(sums["crashes_injected"]),
                static_cast<unsigned long long>(sums["kills_injected"]),
                static_cast<unsigned long long>(sums["crash_point_kills"]),
                static_cast<unsigned long long>(sums["respawns"]),
                static_cast<unsigned long long>(sums["signals_sent"]),
                static_cast<unsigned long long>(sums["signals_to_threads"]),
                static_cast<unsigned long long>(sums["signals_delivered"]),
                static_cast<unsigned long long>(sums["thread_signals_delivered"]),
                static_cast<unsigned long long>(sums["rt_values_delivered"]),
                static_cast<unsigned long long>(sums["recoveries"]),
                static_cast<unsigned long long>(sums["messages_lost"]),
                static_cast<unsigned long long>(sums["leaks"]), min_jain);
    for (const auto& f : findings) {
      std::string details = f.value("details", "");
      if (!details.empty() && details.back() != '\n') details += '\n';
      std::printf("%s: %s\n%s", f.value("kind", "").c_str(), f.value("summary", "").c_str(), details.c_str());
    }
  }
  for (const auto& f : findings) {
    std::fprintf(stderr, "finding (%s) with seed %llu after %.2f s of its round; rerun: %s\n",
                 f.value("kind", "").c_str(), static_cast<unsigned long long>(f.value("seed", std::uint64_t{0})),
                 f.value("after_seconds", -1.0), f.value("rerun", "").c_str());
  }
  return findings.empty() ? 0 : 1;
}

}  // namespace

std::function<int()> SetupStressCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_flag("--list", o->list, "list the targets (planted bugs with the finding they expect)");
  app.add_option("target", o->target, "the target to run (see --list)");
  app.add_option("--duration", o->duration, "how long: 500ms, 30s, 10m, 1h (default 10s)");
  app.add_option("--seed", o->seed, "base seed (default: random, printed)")->each([o](const std::string&) { o->seed_given = true; });
  app.add_option("--jobs", o->jobs, "parallel jobs, each a process with its own seeds (default 1)");
  app.add_flag("--json", o->json, "print the summary as one JSON object");
  app.add_option("--html", o->html,
                 "also write the findings (kind, summary, details, rerun command) and the figures "
                 "as a self-contained HTML page to FILE")
      ->type_name("FILE");
  return [o]() -> int {
    if (o->list) return List();
    if (o->target.empty()) {
      std::fprintf(stderr, "ipclab stress: name a target or --list (e.g. ipclab stress spsc_ring --duration 1m)\n");
      return 2;
    }
    return Campaign(*o);
  };
}

}  // namespace stress
