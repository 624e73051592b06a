#include "stress/chaos.h"

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"
#include "ipc/shm/segment.h"
#include "ipc/signal/signal.h"
#include "ipc/sys/sys.h"
#include "stress/proc.h"

namespace stress {

struct SharedSlot {
  std::atomic<std::int32_t> pid;
  std::atomic<std::uint64_t> ops;
  std::atomic<std::uint64_t> signals;
  std::atomic<std::uint64_t> thread_signals;  // handled on a thread other than the main one
  std::atomic<std::uint64_t> rt_values;       // real-time values that arrived intact
  std::atomic<std::uint64_t> rt_bad_values;   // ... and altered
  std::atomic<std::uint64_t> waits[kWaitBuckets];
  std::atomic<std::uint64_t> wait_max;
  std::atomic<std::int32_t> waiting;  // lock id, -1 none
  std::atomic<std::int32_t> held[kMaxHeldLocks];
  char fail[240];
};

struct ChaosShared {
  ChaosPlan plan;
  std::uint64_t crash_point_kills;  // atomic_ref'd by crash points
  std::atomic<std::uint32_t> stop;
  std::atomic<std::uint64_t> recoveries;
  std::atomic<std::uint64_t> lost;
  SharedSlot slots[kMaxParticipants];
};

struct ChaosSegment {
  ipc::shm::Segment segment;
};

struct Chaos::Slot {
  std::vector<pid_t> threads;  // of the current incarnation, refreshed every few ms
  std::chrono::steady_clock::time_point threads_read{};
  std::string role;
  Body body;
  SpawnOptions options;
  std::optional<ipc::signal::Child> child;
  std::uint64_t incarnations = 0;
  std::uint64_t deaths = 0;
  std::uint64_t denied_ns_ended = 0;  // CPU denial of incarnations that ended
  std::uint64_t denied_ns_live = 0;   // of the current one, last sampled
};

namespace {

// The participant's process-wide view for its signal handler.
ChaosShared* g_shared = nullptr;
int g_index = -1;
bool g_unsafe_handler = false;

// A real-time signal's value: 16 random bits and 15 check bits derived from them.
int SignalValue(std::uint64_t r) {
  std::uint32_t low = static_cast<std::uint32_t>(r & 0xffff);
  return static_cast<int>(low | (((low * 40503u + 7u) & 0x7fffu) << 16));
}
bool SignalValueIntact(int value) {
  auto v = static_cast<std::uint32_t>(value);
  return value >= 0 && (v >> 16) == (((v & 0xffffu) * 40503u + 7u) & 0x7fffu);
}

void ParticipantHandler(int signo, siginfo_t* info, void*) {
  int saved = errno;
  SharedSlot& slot = g_shared->slots[g_index];
  slot.signals.fetch_add(1, std::memory_order_relaxed);
  if (::gettid() != ::getpid()) slot.thread_signals.fetch_add(1, std::memory_order_relaxed);
  if (signo >= SIGRTMIN && info != nullptr && info->si_code == SI_QUEUE) {
    (SignalValueIntact(info->si_value.sival_int) ? slot.rt_values : slot.rt_bad_values)
        .fetch_add(1, std::memory_order_relaxed);
  }
  if (g_unsafe_handler) {
    // Planted bug: malloc and snprintf are not async-signal-safe. A signal that lands while the
    // interrupted code holds malloc's arena lock deadlocks here.
    void* scratch = std::malloc(48 * 1024);
    char line[64];
    std::snprintf(line, sizeof line, "signal %d at %p", signo, scratch);
    std::free(scratch);
  }
  errno = saved;
}

std::uint64_t Mix(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  std::uint64_t s = a ^ (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xc2b2ae3d27d4eb4full);
  return internal::NextRandom(s);
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string SyscallName(long nr) {
#if defined(__x86_64__)
  static const std::map<long, const char*> kNames = {
      {0, "read"},        {1, "write"},         {7, "poll"},           {23, "select"},
      {24, "sched_yield"}, {35, "nanosleep"},   {61, "wait4"},         {64, "semget"},
      {65, "semop"},      {69, "msgsnd"},       {70, "msgrcv"},        {72, "fcntl"},
      {73, "flock"},      {202, "futex"},       {220, "semtimedop"},   {230, "clock_nanosleep"},
      {232, "epoll_wait"}, {242, "mq_timedsend"}, {243, "mq_timedreceive"}, {271, "ppoll"},
      {281, "epoll_pwait"}, {45, "recvfrom"},   {44, "sendto"},        {47, "recvmsg"},
      {46, "sendmsg"},    {128, "rt_sigtimedwait"}, {130, "rt_sigsuspend"}, {34, "pause"}};
  if (auto it = kNames.find(nr); it != kNames.end()) return it->second;
#endif
  return fmt::format("syscall {}", nr);
}

// "state S, wchan futex_wait_queue, in futex" of one task (/proc/PID/task/TID or /proc/PID).
std::string TaskState(const std::string& dir) {
  char state = StateLetter(dir);
  std::string wchan = ReadSmallFile(dir + "/wchan");
  if (wchan.empty() || wchan == "0") wchan = "-";
  std::string sc = ReadSmallFile(dir + "/syscall");
  std::string in;
  if (sc.empty()) {
    in = "syscall unknown (/proc/pid/syscall unreadable)";
  } else if (sc == "running") {
    in = "running in user space";
  } else {
    long nr = std::strtol(sc.c_str(), nullptr, 10);
    in = nr < 0 ? "not in a system call" : "in " + SyscallName(nr);
  }
  return fmt::format("state {}, wchan {}, {}", state, wchan, in);
}

std::string ProcState(pid_t pid) { return TaskState(fmt::format("/proc/{}", pid)); }

// For a process with several threads, a line per thread (a threaded receiver idle in poll says
// nothing about the worker that is stuck); "" for one thread.
std::string ThreadStates(pid_t pid) {
  std::vector<pid_t> tids = ThreadIds(pid);
  std::string out;
  if (tids.size() < 2) return out;
  for (pid_t tid : tids) {
    out += fmt::format("\n      thread {}{}: {}", tid, tid == pid ? " (main)" : "",
                       TaskState(fmt::format("/proc/{}/task/{}", pid, tid)));
  }
  return out;
}

// "philosopher#0 46 ops (1.6 s denied a CPU, 2 incarnations), ..." for a starvation finding.
std::string ParticipantCounts(const std::vector<ParticipantStats>& ps) {
  std::vector<std::string> parts;
  for (const auto& p : ps) {
    parts.push_back(fmt::format("{}#{} {} ops ({:.1f} s denied a CPU, {} incarnation{})", p.role, p.index, p.ops,
                                p.cpu_denied_seconds, p.incarnations, p.incarnations == 1 ? "" : "s"));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

bool SignalDeath(const ipc::signal::ExitStatus& s, int signo) { return !s.exited && s.signal == signo; }

}  // namespace

// --- Participant ------------------------------------------------------------------------------

bool Participant::stopping() const { return shared_->stop.load(std::memory_order_relaxed) != 0; }

void Participant::Done(std::chrono::nanoseconds waited) {
  SharedSlot& s = shared_->slots[index_];
  auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(0, waited.count()));
  s.waits[WaitBucket(ns)].fetch_add(1, std::memory_order_relaxed);
  std::uint64_t max = s.wait_max.load(std::memory_order_relaxed);
  while (ns > max && !s.wait_max.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
  }
  s.ops.fetch_add(1, std::memory_order_release);
}

void Participant::Recovered() { shared_->recoveries.fetch_add(1, std::memory_order_relaxed); }
void Participant::Lost(std::uint64_t n) { shared_->lost.fetch_add(n, std::memory_order_relaxed); }

void Participant::PlannedCrash() {
  std::atomic_ref<std::uint64_t>(shared_->crash_point_kills).fetch_add(1);
}

void Participant::Waiting(int lock) { shared_->slots[index_].waiting.store(lock, std::memory_order_release); }

void Participant::Acquired(int lock) {
  SharedSlot& s = shared_->slots[index_];
  for (auto& h : s.held) {
    std::int32_t empty = -1;
    if (h.compare_exchange_strong(empty, lock, std::memory_order_acq_rel)) break;
  }
  s.waiting.store(-1, std::memory_order_release);
}

void Participant::Released(int lock) {
  for (auto& h : shared_->slots[index_].held) {
    std::int32_t mine = lock;
    if (h.compare_exchange_strong(mine, -1, std::memory_order_acq_rel)) break;
  }
}

int Participant::Fail(std::string_view why) {
  char* out = shared_->slots[index_].fail;
  std::size_t n = std::min(why.size(), sizeof shared_->slots[index_].fail - 1);
  std::memcpy(out, why.data(), n);
  out[n] = '\0';
  return 1;
}

// --- Chaos ------------------------------------------------------------------------------------

Chaos::Chaos(ChaosConfig config) : config_(std::move(config)), rng_(Mix(config_.seed, 0xd1, 0)) {
  // A fairness verdict needs equals: a participant the shuffle put at nice 7 loses every race for
  // a just-released lock to its nice-0 neighbours on a busy machine, and one pinned to a single
  // busy CPU while the others float gets a fraction of their CPU time (under TSan at load 20 a
  // philosopher was denied a CPU for 1.6 s of a 2.1 s run); both are the driver's doing, not the
  // algorithm's. So a run that judges starvation keeps nice values and affinities alone.
  if (config_.min_share > 0 || config_.min_role_jain > 0) {
    config_.shuffle_nice = false;
    config_.shuffle_affinity = false;
  }
  auto seg = ipc::shm::Segment::CreatePosix("chaos", sizeof(ChaosShared));
  if (!seg) {
    std::fprintf(stderr, "stress: cannot create the chaos segment: %s\n", seg.error().message().c_str());
    std::abort();
  }
  started_ = std::chrono::steady_clock::now();
  progress_timer_ = StallTimer(config_.hang_after);
  segment_ = std::make_unique<ChaosSegment>(ChaosSegment{std::move(*seg)});
  shared_ = new (segment_->segment.payload().data()) ChaosShared{};
  shared_->plan = config_.plan;
  for (auto& s : shared_->slots) {
    s.waiting.store(-1);
    for (auto& h : s.held) h.store(-1);
  }
}

Chaos::~Chaos() {
  KillAll();
}

int Chaos::RegisterLock(std::string_view name) {
  if (locks_.size() >= kMaxLocks) std::abort();
  locks_.emplace_back(name);
  return static_cast<int>(locks_.size() - 1);
}

int Chaos::Spawn(std::string_view role, Body body, SpawnOptions options) {
  if (slots_.size() >= kMaxParticipants) std::abort();
  auto slot = std::make_unique<Slot>();
  slot->role = std::string(role);
  slot->body = std::move(body);
  slot->options = options;
  slots_.push_back(std::move(slot));
  int index = static_cast<int>(slots_.size() - 1);
  StartIncarnation(index);
  return index;
}

void Chaos::StartIncarnation(int index) {
  Slot& slot = *slots_[index];
  slot.threads.clear();
  SharedSlot& shared = shared_->slots[index];
  shared.waiting.store(-1);
  for (auto& h : shared.held) h.store(-1);
  std::uint64_t incarnation = slot.incarnations++;
  std::uint64_t seed = Mix(config_.seed, static_cast<std::uint64_t>(index) + 1, incarnation);
  ChaosShared* sh = shared_;
  bool unsafe = config_.unsafe_signal_handler;
  bool killable = slot.options.killable;
  ChaosPlan* plan = &sh->plan;
  // The storm's signals stay blocked from before the fork until the child's handlers are in
  // place: a signal in between would run the parent's handler (or the default action) instead.
  sigset_t storm, old;
  sigemptyset(&storm);
  for (int signo : {SIGUSR1, SIGUSR2, SIGALRM, SIGRTMIN, SIGRTMIN + 1}) sigaddset(&storm, signo);
  ::pthread_sigmask(SIG_BLOCK, &storm, &old);
  auto child = ipc::signal::Child::Fork([sh, index, incarnation, seed, unsafe, killable, plan,
                                         body = &slot.body]() -> int {
    g_shared = sh;
    g_index = index;
    g_unsafe_handler = unsafe;
    struct sigaction sa {};
    sa.sa_sigaction = ParticipantHandler;
    sa.sa_flags = SA_SIGINFO;  // no SA_RESTART: blocking calls see EINTR
    sigemptyset(&sa.sa_mask);
    for (int signo : {SIGUSR1, SIGUSR2, SIGALRM, SIGRTMIN, SIGRTMIN + 1}) {
      if (::sigaction(signo, &sa, nullptr) != 0) return 99;
    }
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int signo : {SIGUSR1, SIGUSR2, SIGALRM, SIGRTMIN, SIGRTMIN + 1}) sigaddset(&unblock, signo);
    ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
    // Crash points may only fire in participants the plan lets die.
    static ChaosPlan own_plan;
    own_plan = *plan;
    if (!killable) own_plan.crash_ppm = 0;
    internal::SetPointContext({.plan = &own_plan, .crash_point_kills = &sh->crash_point_kills,
                               .rng = seed ^ 0x5bd1e995});
    sh->slots[index].pid.store(::getpid(), std::memory_order_release);
    Participant p(sh, index, incarnation, seed);
    return (*body)(p);
  });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!child) {
    AddFinding("crash", "cannot fork participant " + slot.role, child.error().message());
    return;
  }
  slot.child.emplace(std::move(*child));
}

void Chaos::AddFinding(std::string kind, std::string summary, std::string details) {
  if (first_finding_seconds_ < 0) {
    first_finding_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  findings_.push_back({std::move(kind), std::move(summary), std::move(details)});
}

std::uint64_t Chaos::crashes_injected() const {
  return kills_ + std::atomic_ref<std::uint64_t>(shared_->crash_point_kills).load();
}

int Chaos::RunBounded(std::string_view what, std::function<int()> fn, std::chrono::milliseconds limit) {
  auto child = ipc::signal::Child::Fork(std::move(fn));
  if (!child) {
    AddFinding("crash", fmt::format("cannot fork for {}", what), child.error().message());
    return -1;
  }
  // Load-aware like the watchdog: `limit` of time the child could run.
  StallTimer timer(limit);
  std::vector<pid_t> pids{child->pid()};
  timer.Restart(std::chrono::steady_clock::now(), pids, true);
  auto st = child->Wait(ipc::sys::Deadline::After(std::chrono::milliseconds(50)));
  while (!st && !timer.Expired(std::chrono::steady_clock::now(), pids)) {
    st = child->Wait(ipc::sys::Deadline::After(std::chrono::milliseconds(50)));
  }
  if (!st) {
    std::string state = ProcState(child->pid());
    AddFinding("hang", fmt::format("{} did not finish within {}", what, timer.Explain(std::chrono::steady_clock::now())),
               fmt::format("  {} (pid {}): {}{}\n", what, child->pid(), state, ThreadStates(child->pid())));
    (void)child->Kill(SIGKILL);
    (void)child->Wait(ipc::sys::Deadline::After(std::chrono::seconds(5)));
    return -1;
  }
  if (!st->exited) {
    AddFinding("crash", fmt::format("{} {}", what, st->Describe()));
    return -1;
  }
  return st->code;
}

void Chaos::AddRecoveries(std::uint64_t n) { shared_->recoveries.fetch_add(n); }
void Chaos::AddLost(std::uint64_t n) { shared_->lost.fetch_add(n); }

std::uint64_t Chaos::deaths(int index) const { return slots_[index]->deaths; }

void Chaos::SendSignal(int index) {
  Slot& slot = *slots_[index];
  pid_t pid = slot.child->pid();
  static const int kStandard[] = {SIGUSR1, SIGUSR2, SIGALRM};
  int pick = static_cast<int>(rng_() % (config_.realtime_signals ? 5 : 3));
  int signo = pick < 3 ? kStandard[pick] : SIGRTMIN + (pick - 3);
  int value = SignalValue(rng_());
  // One thread of the participant, or the process.
  pid_t tid = 0;
  if (config_.thread_signal_share > 0 &&
      std::uniform_real_distribution<double>(0, 1)(rng_) < config_.thread_signal_share) {
    auto now = std::chrono::steady_clock::now();
    if (slot.threads.empty() || now - slot.threads_read > std::chrono::milliseconds(20)) {
      // Threads that take the storm (SIGUSR1 stands for all five: participants block or unblock
      // them together).
      slot.threads = ThreadIds(pid, SIGUSR1);
      slot.threads_read = now;
    }
    if (!slot.threads.empty()) tid = slot.threads[rng_() % slot.threads.size()];
  }
  bool sent = false;
  if (tid != 0) {
    // ESRCH: the thread ended since the list was read (the list is refreshed soon).
    if (pick < 3) {
      sent = ipc::sys::Call("tgkill", fmt::format("tid {}", tid),
                            [&] { return static_cast<int>(::syscall(SYS_tgkill, pid, tid, signo)); })
                 .has_value();
    } else {
      siginfo_t info{};
      info.si_signo = signo;
      info.si_code = SI_QUEUE;
      info.si_pid = ::getpid();
      info.si_uid = ::getuid();
      info.si_value.sival_int = value;
      sent = ipc::sys::Call("rt_tgsigqueueinfo", fmt::format("tid {}", tid), [&] {
               return static_cast<int>(::syscall(SYS_rt_tgsigqueueinfo, pid, tid, signo, &info));
             }).has_value();  // EAGAIN: the real-time queue is full
    }
    if (sent) ++signals_to_threads_;
  } else if (pick < 3) {
    sent = ipc::sys::Call("kill", fmt::format("pid {}", pid), [&] { return ::kill(pid, signo); }).has_value();
  } else {
    sent = ipc::signal::Queue(pid, signo, value).has_value();  // EAGAIN: queue full
  }
  if (sent) ++signals_sent_;
}

void Chaos::Shuffle(int index) {
  pid_t pid = slots_[index]->child->pid();
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (config_.shuffle_affinity && cpus > 1) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (long c = 0; c < cpus && c < CPU_SETSIZE; ++c) {
      if (rng_() % 2) CPU_SET(c, &set);
    }
    if (CPU_COUNT(&set) == 0) CPU_SET(rng_() % cpus, &set);
    (void)ipc::sys::Call("sched_setaffinity", "participant", [&] { return ::sched_setaffinity(pid, sizeof set, &set); });
  }
  if (config_.shuffle_nice) {
    int nice = static_cast<int>(rng_() % 8);
    // Lowering a nice value needs privilege; EACCES then is expected and harmless.
    (void)ipc::sys::Call("setpriority", "participant", [&] { return ::setpriority(PRIO_PROCESS, pid, nice); });
  }
}

void Chaos::ReapDead(bool respawn) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = *slots_[i];
    if (!slot.child || !slot.child->running()) continue;
    auto st = slot.child->Wait(ipc::sys::Deadline::After(std::chrono::seconds(0)));
    if (!st) continue;  // still running
    SharedSlot& sh = shared_->slots[i];
    std::string who = fmt::format("{}#{} (pid {})", slot.role, i, slot.child->pid());
    bool killed = SignalDeath(*st, SIGKILL);
    if (killed && slot.options.killable) {
      ++slot.deaths;  // a crash point fired
      for (auto& h : sh.held) {
        if (int l = h.load(); l >= 0) orphaned_locks_.push_back(fmt::format("{} was held by {}, killed at a crash point", locks_[l], who));
      }
    } else if (!st->exited) {
      AddFinding("crash", who + " " + st->Describe(), "the driver did not plan this death");
    } else if (st->code != 0) {
      AddFinding("invariant-violation", who + ": " + (sh.fail[0] ? sh.fail : st->Describe()));
    }
    EndIncarnation(slot);
    if (killed && slot.options.killable && slot.options.respawn && respawn && !hung_) {
      ++respawns_;
      StartIncarnation(static_cast<int>(i));
    }
  }
}

void Chaos::KillAll() {
  for (auto& slot : slots_) {
    if (slot->child && slot->child->running()) {
      (void)slot->child->Kill(SIGKILL);
      (void)slot->child->Wait(ipc::sys::Deadline::After(std::chrono::seconds(5)));
    }
    EndIncarnation(*slot);
  }
}

std::vector<pid_t> Chaos::LivePids() const {
  std::vector<pid_t> pids;
  for (const auto& slot : slots_) {
    if (slot->child && slot->child->running()) pids.push_back(slot->child->pid());
  }
  return pids;
}

void Chaos::SampleDenial() {
  for (auto& slot : slots_) {
    if (!slot->child || !slot->child->running()) continue;
    std::uint64_t most = 0;
    for (auto [tid, delay] : RunDelays(slot->child->pid())) most = std::max(most, delay);
    slot->denied_ns_live = std::max(slot->denied_ns_live, most);
  }
}

void Chaos::EndIncarnation(Slot& slot) {
  slot.denied_ns_ended += slot.denied_ns_live;
  slot.denied_ns_live = 0;
  slot.child.reset();
}

std::string Chaos::HangReport(bool* cycle) const {
  std::string out;
  std::map<int, int> holder;  // lock -> slot
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]->child || !slots_[i]->child->running()) continue;
    for (auto& h : shared_->slots[i].held) {
      if (int l = h.load(); l >= 0) holder[l] = static_cast<int>(i);
    }
  }
  auto name = [&](int i) { return fmt::format("{}#{} (pid {})", slots_[i]->role, i, slots_[i]->child ? slots_[i]->child->pid() : -1); };
  // Only a lock's latest dead holder matters (targets that survive kills hand the lock on, so
  // earlier entries are history), and only while no live participant holds it.
  auto last_dead_holder = [&](int lock) -> const std::string* {
    for (auto it = orphaned_locks_.rbegin(); it != orphaned_locks_.rend(); ++it) {
      if (it->starts_with(locks_[lock] + " ")) return &*it;
    }
    return nullptr;
  };
  std::vector<int> next(slots_.size(), -1);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = *slots_[i];
    if (!slot.child || !slot.child->running()) {
      out += fmt::format("  {}#{}: not running\n", slot.role, i);
      continue;
    }
    const SharedSlot& sh = shared_->slots[i];
    out += fmt::format("  {}: {}, {} ops", name(static_cast<int>(i)), ProcState(slot.child->pid()), sh.ops.load());
    std::vector<std::string> held;
    for (auto& h : sh.held) {
      if (int l = h.load(); l >= 0) held.push_back(locks_[l]);
    }
    if (!held.empty()) out += fmt::format(", holds {}", fmt::join(held, ", "));
    if (int w = sh.waiting.load(); w >= 0) {
      out += fmt::format(", waits for {}", locks_[w]);
      if (auto it = holder.find(w); it != holder.end()) {
        out += fmt::format(" (held by {})", name(it->second));
        next[i] = it->second;
      } else {
        out += " (no live holder";
        if (const std::string* o = last_dead_holder(w)) out += "; " + *o;
        out += ")";
      }
    }
    out += ThreadStates(slot.child->pid()) + "\n";
  }
  // A wait-for cycle: follow waits-for-holder edges from every participant.
  *cycle = false;
  for (std::size_t start = 0; start < next.size() && !*cycle; ++start) {
    std::vector<int> path;
    std::vector<bool> on(next.size(), false);
    int at = static_cast<int>(start);
    while (at >= 0 && !on[at]) {
      on[at] = true;
      path.push_back(at);
      at = next[at];
    }
    if (at >= 0) {
      *cycle = true;
      auto from = std::find(path.begin(), path.end(), at);
      std::string c = "  wait-for cycle: ";
      for (auto it = from; it != path.end(); ++it) {
        c += fmt::format("{} waits for {} held by ", name(*it), locks_[shared_->slots[*it].waiting.load()]);
      }
      c += name(at) + "\n";
      out += c;
    }
  }
  std::vector<std::string> orphaned;
  for (int l = 0; l < static_cast<int>(locks_.size()); ++l) {
    if (const std::string* o = last_dead_holder(l); o && !holder.contains(l)) orphaned.push_back(*o);
  }
  if (!orphaned.empty()) {
    out += "  locks whose holder died holding them: " + fmt::format("{}", fmt::join(orphaned, "; ")) + "\n";
  }
  return out;
}

void Chaos::CheckProgress(std::chrono::steady_clock::time_point now) {
  std::uint64_t ops = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) ops += shared_->slots[i].ops.load(std::memory_order_acquire);
  if (ops != last_ops_) {
    last_ops_ = ops;
    progress_timer_.Restart(now, LivePids());
    return;
  }
  if (hung_ || !progress_timer_.Expired(now, LivePids())) return;
  hung_ = true;
  bool cycle = false;
  std::string report = HangReport(&cycle);
  AddFinding(cycle ? "deadlock" : "hang",
             fmt::format("no participant made progress for {}{}", progress_timer_.Explain(now),
                         cycle ? " (wait-for cycle)" : ""),
             report);
  KillAll();
}

void Chaos::Tick(std::chrono::steady_clock::time_point now) {
  // Rates are per second of real time: the loop's naps stretch on a loaded machine.
  double kTick = last_tick_ == std::chrono::steady_clock::time_point{}
                     ? 0.001
                     : std::min(0.05, std::chrono::duration<double>(now - last_tick_).count());
  last_tick_ = now;
  ReapDead(true);
  std::vector<int> live, killable;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]->child || !slots_[i]->child->running()) continue;
    if (slots_[i]->options.signalled) live.push_back(static_cast<int>(i));
    if (slots_[i]->options.killable) killable.push_back(static_cast<int>(i));
  }
  std::uniform_real_distribution<double> u(0, 1);
  if (!live.empty() && config_.signals_per_second > 0) {
    // Poisson arrivals: the expected number this tick, as whole sends plus a remainder chance.
    double expect = config_.signals_per_second * kTick;
    int n = static_cast<int>(expect) + (u(rng_) < expect - static_cast<int>(expect) ? 1 : 0);
    for (int k = 0; k < n; ++k) SendSignal(live[rng_() % live.size()]);
  }
  if (!killable.empty() && config_.kills_per_second > 0 && u(rng_) < config_.kills_per_second * kTick) {
    int victim = killable[rng_() % killable.size()];
    Slot& slot = *slots_[victim];
    if (slot.child->Kill(SIGKILL)) {
      (void)slot.child->Wait(ipc::sys::Deadline::After(std::chrono::seconds(5)));
      ++kills_;
      ++slot.deaths;
      for (auto& h : shared_->slots[victim].held) {
        if (int l = h.load(); l >= 0) {
          orphaned_locks_.push_back(fmt::format("{} was held by {}#{} (pid {}), SIGKILLed by the driver",
                                                locks_[l], slot.role, victim, slot.child->pid()));
        }
      }
      EndIncarnation(slot);
      if (slot.options.respawn) {
        ++respawns_;
        StartIncarnation(victim);
      }
    }
  }
  if (now - last_denial_sample_ >= std::chrono::milliseconds(100)) {
    last_denial_sample_ = now;
    SampleDenial();
  }
  if (!live.empty() && (config_.shuffle_affinity || config_.shuffle_nice) && u(rng_) < 0.02) {
    Shuffle(live[rng_() % live.size()]);
  }
  CheckProgress(now);
}

void Chaos::Run(const std::function<void()>& at_stop) {
  using Clock = std::chrono::steady_clock;
  started_ = Clock::now();
  progress_timer_.Restart(started_, LivePids(), true);
  auto until = started_ + config_.duration;
  auto next_progress_line = started_ + std::chrono::seconds(1);
  while (!hung_) {
    auto now = Clock::now();
    if (now >= until) break;
    if (config_.stop_on_finding && !findings_.empty()) break;
    Tick(now);
    if (config_.progress && now >= next_progress_line) {
      next_progress_line += std::chrono::seconds(1);
      std::uint64_t ops = 0;
      for (std::size_t i = 0; i < slots_.size(); ++i) ops += shared_->slots[i].ops.load();
      std::fprintf(stderr, "\rstress: %.0f/%.0f s, %llu ops, %llu crashes, %llu signals, %zu findings   ",
                   std::chrono::duration<double>(now - started_).count(),
                   std::chrono::duration<double>(config_.duration).count(),
                   static_cast<unsigned long long>(ops), static_cast<unsigned long long>(crashes_injected()),
                   static_cast<unsigned long long>(signals_sent_), findings_.size());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (config_.progress) std::fprintf(stderr, "\n");
  SampleDenial();
  shared_->stop.store(1, std::memory_order_release);
  if (at_stop) at_stop();
  StallTimer grace(config_.exit_grace);
  grace.Restart(Clock::now(), LivePids(), true);
  for (;;) {
    ReapDead(false);
    std::vector<pid_t> live = LivePids();
    if (live.empty()) break;
    auto now = Clock::now();
    if (grace.Expired(now, live)) {
      bool cycle = false;
      std::string report = HangReport(&cycle);
      AddFinding(cycle ? "deadlock" : "hang",
                 fmt::format("participants did not stop within {} of the stop flag", grace.Explain(now)),
                 report);
      KillAll();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  seconds_ = std::chrono::duration<double>(Clock::now() - started_).count();
}

RunReport Chaos::Finish() {
  KillAll();
  RunReport r;
  r.seed = config_.seed;
  r.seconds = seconds_;
  r.kills_injected = kills_;
  r.crash_point_kills = std::atomic_ref<std::uint64_t>(shared_->crash_point_kills).load();
  r.crashes_injected = r.kills_injected + r.crash_point_kills;
  r.respawns = respawns_;
  r.signals_sent = signals_sent_;
  r.signals_to_threads = signals_to_threads_;
  r.recoveries = shared_->recoveries.load();
  r.messages_lost = shared_->lost.load();
  r.rerun = config_.rerun;
  std::vector<double> shares;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const SharedSlot& sh = shared_->slots[i];
    ParticipantStats p;
    p.role = slots_[i]->role;
    p.index = static_cast<int>(i);
    p.ops = sh.ops.load();
    p.incarnations = slots_[i]->incarnations;
    p.signals_received = sh.signals.load();
    p.thread_signals_received = sh.thread_signals.load();
    r.thread_signals_delivered += p.thread_signals_received;
    r.rt_values_delivered += sh.rt_values.load();
    if (std::uint64_t bad = sh.rt_bad_values.load(); bad > 0) {
      AddFinding("invariant-violation",
                 fmt::format("{}#{} received {} real-time signals whose value was altered", p.role, i, bad));
    }
    std::vector<std::uint64_t> hist(kWaitBuckets);
    for (std::size_t b = 0; b < kWaitBuckets; ++b) hist[b] = sh.waits[b].load();
    p.wait_p50_ns = Percentile(hist, 0.5);
    p.wait_p99_ns = Percentile(hist, 0.99);
    p.wait_max_ns = sh.wait_max.load();
    p.cpu_denied_seconds = static_cast<double>(slots_[i]->denied_ns_ended + slots_[i]->denied_ns_live) / 1e9;
    // (Floor at 1% of the run: a participant denied nearly everything is not judged on noise.)
    p.ops_per_second = static_cast<double>(p.ops) / std::max(seconds_ * 0.01, seconds_ - p.cpu_denied_seconds);
    r.operations += p.ops;
    r.signals_delivered += p.signals_received;
    shares.push_back(static_cast<double>(p.ops));
    r.participants.push_back(p);
  }
  r.jain_index = JainIndex(shares);
  std::map<std::string, std::vector<double>> by_role;
  for (const auto& p : r.participants) by_role[p.role].push_back(static_cast<double>(p.ops));
  for (const auto& [role, ops] : by_role) {
    r.jain_by_role[role] = JainIndex(ops);
    if (config_.min_role_jain > 0 && ops.size() > 1 && r.jain_by_role[role] < config_.min_role_jain &&
        findings_.empty()) {
      AddFinding("starvation",
                 fmt::format("the {}s' Jain fairness index is {:.3f}, below the bound {:.2f}", role,
                             r.jain_by_role[role], config_.min_role_jain),
                 fmt::format("their operation counts: {}; every participant: {}", fmt::join(ops, ", "),
                             ParticipantCounts(r.participants)));
    }
  }
  if (config_.min_share > 0 && findings_.empty()) {
    for (std::size_t i : Starved(shares, config_.min_share)) {
      const ParticipantStats& p = r.participants[i];
      AddFinding("starvation",
                 fmt::format("{}#{} did {} operations ({:.1f}/s of the {:.1f} s it was not denied a CPU), below {:.0f}% "
                             "of the mean (Jain index {:.3f})",
                             p.role, i, p.ops, p.ops_per_second, seconds_ - p.cpu_denied_seconds,
                             config_.min_share * 100, r.jain_index),
                 fmt::format("its wait p99 {} ns, max {} ns; every participant: {}", p.wait_p99_ns, p.wait_max_ns,
                             ParticipantCounts(r.participants)));
    }
  }
  // Leak audit: the chaos segment goes first; anything of this session left after that leaked.
  segment_.reset();
  shared_ = nullptr;
  for (const auto& o : ipc::audit::ListSessionObjects(ipc::audit::SessionPid())) {
    ++r.leaks;
    auto removed = ipc::audit::Remove(o);
    AddFinding("ipc-leak", "left after the run: " + ipc::audit::Describe(o),
               removed ? "reaped" : "could not reap: " + removed.error().message());
  }
  r.findings = findings_;
  // (Set last: the starvation and leak checks above are findings too, due at the end of the run.)
  r.first_finding_seconds = first_finding_seconds_;
  return r;
}

std::string RunReport::Json() const {
  nlohmann::json j;
  j["seed"] = seed;
  j["seconds"] = seconds;
  j["operations"] = operations;
  j["crashes_injected"] = crashes_injected;
  j["kills_injected"] = kills_injected;
  j["crash_point_kills"] = crash_point_kills;
  j["respawns"] = respawns;
  j["signals_sent"] = signals_sent;
  j["signals_delivered"] = signals_delivered;
  j["signals_to_threads"] = signals_to_threads;
  j["thread_signals_delivered"] = thread_signals_delivered;
  j["rt_values_delivered"] = rt_values_delivered;
  j["recoveries"] = recoveries;
  j["messages_lost"] = messages_lost;
  j["leaks"] = leaks;
  j["jain_index"] = jain_index;
  j["jain_by_role"] = jain_by_role;
  if (first_finding_seconds >= 0) j["first_finding_seconds"] = first_finding_seconds;
  j["participants"] = nlohmann::json::array();
  for (const auto& p : participants) {
    j["participants"].push_back({{"role", p.role}, {"index", p.index}, {"ops", p.ops},
                                 {"incarnations", p.incarnations}, {"signals", p.signals_received},
                                 {"thread_signals", p.thread_signals_received},
                                 {"wait_p50_ns", p.wait_p50_ns}, {"wait_p99_ns", p.wait_p99_ns},
                                 {"wait_max_ns", p.wait_max_ns},
                                 {"cpu_denied_seconds", p.cpu_denied_seconds},
                                 {"ops_per_second", p.ops_per_second}});
  }
  j["findings"] = nlohmann::json::array();
  for (const auto& f : findings) {
    j["findings"].push_back({{"kind", f.kind}, {"summary", f.summary}, {"details", f.details}});
  }
  j["rerun"] = rerun;
  return j.dump();
}

std::string RunReport::Text() const {
  std::string out = fmt::format(
      "seed {}: {:.1f} s, {} ops, {} crashes injected ({} kills, {} at crash points), {} signals sent "
      "({} to single threads) / {} delivered ({} on non-main threads, {} real-time values intact), "
      "{} recoveries, {} messages lost (documented), {} leaks, Jain index {:.3f}\n",
      seed, seconds, operations, crashes_injected, kills_injected, crash_point_kills, signals_sent,
      signals_to_threads, signals_delivered, thread_signals_delivered, rt_values_delivered, recoveries,
      messages_lost, leaks, jain_index);
  for (const auto& f : findings) {
    out += fmt::format("{}: {}\n{}", f.kind, f.summary, f.details.empty() ? "" : f.details + (f.details.ends_with('\n') ? "" : "\n"));
  }
  if (!findings.empty()) {
    if (first_finding_seconds >= 0) out += fmt::format("first finding after {:.2f} s; ", first_finding_seconds);
    out += fmt::format("seed {}; rerun: {}\n", seed, rerun);
  }
  return out;
}

}  // namespace stress
