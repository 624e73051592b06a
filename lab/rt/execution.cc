#include "lab/rt/execution.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <utility>

#include <fmt/format.h>

#include "lab/detect/deadlock.h"
#include "lab/detect/lock_order.h"
#include "lab/detect/race.h"
#include "lab/rt/sanitizer.h"

namespace lab::rt {
namespace {

thread_local Execution* tls_execution = nullptr;
std::atomic<std::uint64_t> g_generation{0};
constexpr StepIndex kNoStep = ~StepIndex{0};

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

const char* OpName(Op op) {
  switch (op) {
    case Op::kBegin: return "begin";
    case Op::kSpawn: return "spawn";
    case Op::kJoin: return "join";
    case Op::kExit: return "exit";
    case Op::kLock: return "lock";
    case Op::kTryLock: return "try_lock";
    case Op::kUnlock: return "unlock";
    case Op::kLockShared: return "lock_shared";
    case Op::kTryLockShared: return "try_lock_shared";
    case Op::kUnlockShared: return "unlock_shared";
    case Op::kWait: return "wait";
    case Op::kWake: return "wake";
    case Op::kNotifyOne: return "notify_one";
    case Op::kNotifyAll: return "notify_all";
    case Op::kSemAcquire: return "acquire";
    case Op::kSemTryAcquire: return "try_acquire";
    case Op::kSemRelease: return "release";
    case Op::kLoad: return "load";
    case Op::kStore: return "store";
    case Op::kRmw: return "rmw";
    case Op::kCas: return "compare_exchange";
    case Op::kRead: return "read";
    case Op::kWrite: return "write";
    case Op::kYield: return "yield";
    case Op::kSleep: return "sleep";
    case Op::kRandom: return "random";
    case Op::kProgress: return "progress";
    case Op::kAssert: return "assert";
  }
  return "?";
}

const char* ObjKindName(ObjKind kind) {
  switch (kind) {
    case ObjKind::kThread: return "thread";
    case ObjKind::kMutex: return "mutex";
    case ObjKind::kRwLock: return "rwlock";
    case ObjKind::kCondVar: return "condvar";
    case ObjKind::kSemaphore: return "semaphore";
    case ObjKind::kAtomic: return "atomic";
    case ObjKind::kShared: return "shared";
  }
  return "?";
}

struct Execution::ThreadState {
  Execution* ex = nullptr;
  ThreadId id = kNoThread;
  std::function<void()> fn;
  bool started = false;
  bool finished = false;
  bool fresh = true;
  // The pending operation and what it waits for.
  Op op = Op::kBegin;
  ObjectId obj = kNoObject;
  std::source_location loc;
  WaitKind wait = WaitKind::kNone;
  ObjectId wait_on = kNoObject;   // object, or the joined ThreadId
  LockMode mode = LockMode::kExclusive;
  std::int64_t deadline = -1;     // virtual ns; -1 none
  StepIndex waiting_since = 0;
  bool notified = false;          // condvar wait: woken by a notify
  bool spurious_used = false;
  struct Held {
    ObjectId lock;
    StepIndex step;
    std::source_location loc;
    bool shared;
  };
  std::vector<Held> held;
  StepIndex last_progress = 0;
  std::uint64_t max_bypass = 0;
  std::uint64_t stall = 0;        // own steps since anyone last made progress (fairness)
  std::uint64_t starve = 0;       // steps blocked or running without progress (starvation)
  char tsan_sync = 0;             // spawn/join happens-before, told to TSan
};

struct Execution::ObjState {
  ObjKind kind = ObjKind::kMutex;
  const void* addr = nullptr;
  ThreadId owner = kNoThread;
  std::vector<ThreadId> readers;
  std::int64_t count = 0;
  std::vector<ThreadId> waiters;  // condvar, FIFO
  StepIndex lost_signal = kNoStep;
  std::source_location lost_signal_loc;
  StepIndex last_signal = kNoStep;
  std::source_location last_signal_loc;
};

Execution::Execution(Backend& backend, Strategy& strategy, const ExecutionConfig& config,
                     LockOrderDetector* lock_order)
    : backend_(backend),
      strategy_(strategy),
      config_(config),
      lock_order_(lock_order),
      race_(std::make_unique<RaceDetector>()) {}

Execution::~Execution() = default;

Execution* Execution::Current() {
  RuntimeSection guard;   // runtime state, written by other fibers with no order TSan could see
  Execution* ex = tls_execution;
  return ex && ex->current_ != kNoThread ? ex : nullptr;
}

std::string Execution::Where(std::source_location loc) {
  std::string_view file = loc.file_name();
  // Workspace-relative paths read better than sandbox-absolute ones.
  if (auto pos = file.rfind("/execroot/"); pos != std::string_view::npos) {
    auto rest = file.substr(pos + 10);
    if (auto slash = rest.find('/'); slash != std::string_view::npos) file = rest.substr(slash + 1);
  }
  return fmt::format("{}:{}", file, loc.line());
}

std::string Execution::ThreadName(ThreadId t) const {
  return t < record_.threads.size() ? record_.threads[t].name : fmt::format("T{}", t);
}
std::string Execution::ObjName(ObjectId o) const {
  return o < record_.objects.size() ? record_.objects[o].name : "?";
}

Execution::ThreadState& Execution::Me() { return *threads_[current_]; }

ObjectId Execution::Resolve(ObjRef& ref, const void* addr, ObjKind kind, std::source_location loc,
                            std::int64_t initial) {
  if (ref.generation == generation_ && ref.id != kNoObject) return ref.id;
  ObjectId id = objects_.size();
  ObjState s;
  s.kind = kind;
  s.addr = addr;
  s.count = initial;
  objects_.push_back(std::move(s));
  std::string name = ref.name ? std::string(ref.name) : fmt::format("{}#{}", ObjKindName(kind), id);
  if (ref.name) {
    for (const auto& o : record_.objects) {
      if (o.name == name) {
        name = fmt::format("{}#{}", ref.name, id);   // two objects share the name: tell them apart
        break;
      }
    }
  }
  record_.objects.push_back(ObjectInfo{kind, std::move(name), loc});
  ref.generation = generation_;
  ref.id = id;
  return id;
}

void Execution::NameObject(ObjRef& ref, const void* addr, ObjKind kind, std::string name) {
  RuntimeSection guard;
  ObjectId id = Resolve(ref, addr, kind, std::source_location::current());
  record_.objects[id].name = std::move(name);
}

bool Execution::Satisfied(const ThreadState& t) const {
  switch (t.wait) {
    case WaitKind::kNone: return true;
    case WaitKind::kLock: {
      const ObjState& o = objects_[t.wait_on];
      if (o.owner != kNoThread) return false;
      return t.mode == LockMode::kShared || o.readers.empty();
    }
    case WaitKind::kSem: return objects_[t.wait_on].count > 0;
    case WaitKind::kCondVar: return t.notified;
    case WaitKind::kJoin: return threads_[t.wait_on]->finished;
    case WaitKind::kSleep: return false;
  }
  return false;
}

bool Execution::Enabled(const ThreadState& t) const {
  if (t.finished) return false;
  if (Satisfied(t)) return true;
  if (t.deadline >= 0 && now_ns_ >= t.deadline) return true;
  return t.wait == WaitKind::kCondVar && config_.spurious_wakeups && !t.spurious_used;
}

void Execution::Record(ThreadState& t, Op op, ObjectId obj, std::source_location loc,
                       std::int64_t value) {
  Event e;
  e.step = step_++;
  e.thread = t.id;
  e.op = op;
  e.object = obj;
  e.loc = loc;
  e.choice = pending_choice_;
  e.alternatives = pending_alternatives_;
  e.value = value;
  record_.events.push_back(e);
  ++t.stall;
  pending_choice_ = -1;
  pending_alternatives_ = 1;
}

void Execution::MarkProgress(ThreadState& t, bool explicit_call) {
  // A program that declares its progress with lab::progress() is measured by that alone: a writer
  // that keeps reacquiring an internal mutex only to wait again is not progressing.
  if (explicit_call) explicit_progress_ = true;
  if (explicit_progress_ && !explicit_call) return;
  t.max_bypass = std::max<std::uint64_t>(t.max_bypass, step_ - t.last_progress);
  t.last_progress = step_;
  t.starve = 0;
  last_global_progress_ = step_;
  for (auto& u : threads_) u->stall = 0;   // news: a spinner may now get somewhere
}

void Execution::CheckLiveness(bool may_throw) {
  if (aborting_) return;
  if (config_.watchdog_deadline > 0 && (step_ & 1023) == 0 && SteadySeconds() > config_.watchdog_deadline) {
    Finding f;
    f.kind = "hang";
    f.summary = fmt::format("hang: the exploration's watchdog expired during this execution (step {})", step_);
    f.steps.push_back(step_ - 1);
    Fail(std::move(f), may_throw);
    return;
  }
  const std::uint64_t bound = config_.starvation_bound;
  if (bound > 0 && step_ - last_global_progress_ > bound) {
    Finding f;
    f.kind = "livelock";
    f.summary = fmt::format(
        "livelock: threads keep running but none has made progress for {} steps (since step {})",
        step_ - last_global_progress_, last_global_progress_);
    for (const auto& t : threads_) {
      if (t->finished || !t->started) continue;
      f.details.push_back(fmt::format("  {} last progressed at step {}, now at {} {} ({})",
                                      ThreadName(t->id), t->last_progress, OpName(t->op),
                                      t->obj ? ObjName(t->obj) : "", Where(t->loc)));
    }
    f.steps.push_back(last_global_progress_ ? last_global_progress_ - 1 : 0);
    f.steps.push_back(step_ - 1);
    Fail(std::move(f), may_throw);
    return;
  }
  if (bound > 0) {
    const ThreadId ran = record_.events.empty() ? kNoThread : record_.events.back().thread;
    for (const auto& tp : threads_) {
      ThreadState& t = *tp;
      // Waiting for a thread to end, or sleeping, is not wanting to progress.
      if (t.finished || t.wait == WaitKind::kJoin || t.wait == WaitKind::kSleep) continue;
      // Steps where it could have run but the scheduler picked another are the scheduler's
      // doing, not the program's: only blocked steps and its own fruitless steps count.
      if (t.id == ran || !Enabled(t)) ++t.starve;
      if (t.starve > bound && last_global_progress_ > t.last_progress) {
        Finding f;
        f.kind = "starvation";
        f.summary = fmt::format(
            "starvation: {} has made no progress for {} steps (since step {}; {} of them blocked or "
            "running in vain) while other threads progressed; it is at {} {} ({})",
            ThreadName(t.id), step_ - t.last_progress, t.last_progress, t.starve, OpName(t.op),
            t.obj ? ObjName(t.obj) : "", Where(t.loc));
        for (const auto& u : threads_) {
          if (u->finished) continue;
          f.details.push_back(fmt::format("  {}: last progress at step {}", ThreadName(u->id),
                                          u->last_progress));
        }
        f.starved = ThreadName(t.id);
        f.steps.push_back(t.last_progress ? t.last_progress - 1 : 0);
        f.steps.push_back(step_ - 1);
        Fail(std::move(f), may_throw);
        return;
      }
    }
  }
  if (step_ > config_.max_steps) {
    Finding f;
    f.kind = "hang";
    f.summary = fmt::format("hang: the execution did not finish within {} steps (max_steps)",
                            config_.max_steps);
    f.steps.push_back(step_ - 1);
    Fail(std::move(f), may_throw);
    return;
  }
}

void Execution::Point(Op op, ObjectId obj, std::source_location loc, WaitKind wait,
                      ObjectId wait_on, std::int64_t timeout_ns, LockMode mode, bool may_throw) {
  ThreadState& me = Me();
  if (aborting_) {
    if (may_throw && std::uncaught_exceptions() == 0) throw AbortExecution{};
    me.wait = WaitKind::kNone;
    return;
  }
  me.op = op;
  me.obj = obj;
  me.loc = loc;
  me.wait = wait;
  me.wait_on = wait_on;
  me.mode = mode;
  me.deadline = timeout_ns < 0 ? -1 : now_ns_ + timeout_ns;
  me.waiting_since = step_;
  if (me.fresh) {
    me.fresh = false;
    if (Enabled(me)) return;   // keeps the choice that started this thread for its first op
  }
  point_may_throw_ = may_throw;
  Schedule(false);
  if (aborting_) {
    if (may_throw && std::uncaught_exceptions() == 0) throw AbortExecution{};
    me.wait = WaitKind::kNone;
  }
}

void Execution::Schedule(bool caller_finished) {
  ThreadId next = kNoThread;
  while (!aborting_) {
    scratch_.clear();
    for (const auto& t : threads_) {
      if (Enabled(*t)) scratch_.push_back(t->id);
    }
    if (scratch_.empty()) {
      // Nobody can run now: let virtual time pass to the earliest timeout or wake-up.
      std::int64_t earliest = -1;
      bool unfinished = false;
      for (const auto& t : threads_) {
        if (t->finished) continue;
        unfinished = true;
        if (t->deadline >= 0 && (earliest < 0 || t->deadline < earliest)) earliest = t->deadline;
      }
      if (earliest >= 0) {
        now_ns_ = std::max(now_ns_, earliest);
        continue;
      }
      if (!unfinished) break;   // the execution is complete
      Deadlock();               // returns only to a non-throwing point being torn down
      return;
    }
    if (config_.fair_threshold > 0 && scratch_.size() > 1) {
      bool someone_fresh = false;
      for (ThreadId id : scratch_) someone_fresh |= threads_[id]->stall <= config_.fair_threshold;
      if (someone_fresh) {
        std::erase_if(scratch_, [&](ThreadId id) { return threads_[id]->stall > config_.fair_threshold; });
      }
    }
    std::size_t idx = 0;
    const ThreadState* cur = current_ != kNoThread ? threads_[current_].get() : nullptr;
    const bool cur_enabled = cur && !caller_finished && Enabled(*cur);
    if (scratch_.size() > 1) {
      Choices c;
      c.kind = Choices::Kind::kThread;
      c.count = scratch_.size();
      c.threads = scratch_;
      c.current = caller_finished ? kNoThread : current_;
      c.current_enabled = cur_enabled;
      c.index = record_.choices.size();
      c.step = step_;
      idx = strategy_.Pick(c) % scratch_.size();
      record_.choices.push_back(static_cast<std::uint32_t>(idx));
      pending_choice_ = static_cast<std::int32_t>(idx);
      pending_alternatives_ = static_cast<std::uint32_t>(scratch_.size());
    } else {
      pending_choice_ = -1;
      pending_alternatives_ = 1;
    }
    next = scratch_[idx];
    if (cur_enabled && next != current_) ++record_.preemptions;
    break;
  }
  now_ns_ += config_.tick_ns;
  if (next == current_ && !caller_finished && next != kNoThread) return;
  const ThreadId from = current_;
  current_ = next;  // kNoThread: back to the controller
  if (next != kNoThread) threads_[next]->started = true;
  if (caller_finished) backend_.Exit(from, next);
  backend_.Switch(from, next);
}

void Execution::Fail(Finding finding, bool may_throw) {
  record_.findings.push_back(std::move(finding));
  aborting_ = true;
  ThreadState& me = Me();
  const ThreadId from = current_;
  current_ = kNoThread;
  if (me.finished) backend_.Exit(from, kNoThread);
  backend_.Switch(from, kNoThread);
  // Resumed by Teardown: unwind this thread (or let a destructor finish first).
  if (may_throw && std::uncaught_exceptions() == 0) throw AbortExecution{};
}

void Execution::Deadlock() {
  // The blocked attempts go into the log too: they are the last step of each blocked thread.
  for (const auto& tp : threads_) {
    ThreadState& t = *tp;
    if (t.finished || !t.started) continue;
    t.waiting_since = step_;
    Record(t, t.op, t.obj, t.loc, -1);
  }
  // Built in a callee: this frame may be left for good (a finished thread's last switch), and
  // whatever it owned would leak.
  Fail(DeadlockFinding(), point_may_throw_);
}

Finding Execution::DeadlockFinding() {
  std::vector<detect::WaitNode> nodes;
  for (const auto& tp : threads_) {
    const ThreadState& t = *tp;
    if (t.finished) continue;
    detect::WaitNode n;
    n.thread = t.id;
    n.thread_name = ThreadName(t.id);
    n.where = Where(t.loc);
    n.since = t.waiting_since;
    switch (t.wait) {
      case WaitKind::kLock: {
        const ObjState& o = objects_[t.wait_on];
        n.waits_for = t.mode == LockMode::kShared ? "lock (shared)" : "lock";
        n.object_name = ObjName(t.wait_on);
        if (o.owner != kNoThread) n.blockers.push_back(o.owner);
        if (t.mode == LockMode::kExclusive) {
          for (ThreadId r : o.readers) n.blockers.push_back(r);
        }
        break;
      }
      case WaitKind::kSem: {
        const ObjState& o = objects_[t.wait_on];
        n.waits_for = "acquire";
        n.object_name = ObjName(t.wait_on);
        if (o.last_signal != kNoStep) {
          n.last_signal_step = o.last_signal;
          n.last_signal_where = Where(o.last_signal_loc);
        }
        break;
      }
      case WaitKind::kCondVar: {
        const ObjState& o = objects_[t.wait_on];
        n.waits_for = "wait on";
        n.object_name = ObjName(t.wait_on);
        n.on_condvar = true;
        if (o.lost_signal != kNoStep) {
          n.lost_signal_step = o.lost_signal;
          n.lost_signal_where = Where(o.lost_signal_loc);
        }
        if (o.last_signal != kNoStep) {
          n.last_signal_step = o.last_signal;
          n.last_signal_where = Where(o.last_signal_loc);
        }
        break;
      }
      case WaitKind::kJoin:
        n.waits_for = "join";
        n.object_name = ThreadName(static_cast<ThreadId>(t.wait_on));
        n.blockers.push_back(static_cast<ThreadId>(t.wait_on));
        break;
      default:
        n.waits_for = OpName(t.op);
        n.object_name = t.obj ? ObjName(t.obj) : "";
        break;
    }
    for (const auto& h : t.held) {
      n.holds.push_back({ObjName(h.lock) + (h.shared ? " (shared)" : ""), Where(h.loc), h.step});
    }
    nodes.push_back(std::move(n));
  }
  return detect::AnalyzeDeadlock(nodes);
}

// ---- threads ----

void Execution::ThreadEntry(void* arg) {
  auto* t = static_cast<ThreadState*>(arg);
  RunBody(t);
  // Nothing owning memory may live in this frame: FinishThread leaves it for good.
  RuntimeSection guard;
  t->ex->FinishThread(*t);
}

void Execution::RunBody(ThreadState* t) {
  Execution* ex = t->ex;
  TsanAcquire(&t->tsan_sync);
  std::string crash;
  try {
    t->fn();
    t->fn = nullptr;
  } catch (const AbortExecution&) {
  } catch (const std::exception& e) {
    crash = fmt::format("{}: {}", "std::exception", e.what());
  } catch (...) {
    crash = "an exception of unknown type";
  }
  RuntimeSection guard;
  t->fn = nullptr;
  if (!crash.empty() && !ex->aborting_) {
    Finding f;
    f.kind = "crash";
    f.summary = fmt::format("crash: {} escaped {} after its operation at {} ({})", crash,
                            ex->ThreadName(t->id), ex->Where(t->loc), OpName(t->op));
    if (ex->step_ > 0) f.steps.push_back(ex->step_ - 1);
    ex->record_.findings.push_back(std::move(f));
    ex->aborting_ = true;
  }
}

void Execution::FinishThread(ThreadState& t) {
  t.finished = true;
  t.wait = WaitKind::kNone;
  TsanRelease(&t.tsan_sync);
  TsanRelease(&controller_sync_);
  if (!aborting_) {
    Record(t, Op::kExit, kNoObject, t.loc);
    MarkProgress(t, explicit_progress_);   // finishing always counts
  }
  point_may_throw_ = true;
  Schedule(true);
  std::abort();  // unreachable: Schedule(true) never returns
}

ThreadId Execution::Spawn(std::function<void()> fn, std::source_location loc) {
  RuntimeSection guard;
  Point(Op::kSpawn, kNoObject, loc);
  ThreadState& me = Me();
  auto t = std::make_unique<ThreadState>();
  t->ex = this;
  t->id = static_cast<ThreadId>(threads_.size());
  t->fn = std::move(fn);
  t->last_progress = step_;
  t->loc = loc;
  ThreadId id = t->id;
  record_.threads.push_back(ThreadInfo{fmt::format("T{}", id), loc});
  backend_.Create(id, &ThreadEntry, t.get());
  threads_.push_back(std::move(t));
  race_->OnSpawn(me.id, id);
  TsanRelease(&threads_[id]->tsan_sync);
  Record(me, Op::kSpawn, kNoObject, loc, id);
  CheckLiveness();
  return id;
}

void Execution::Join(ThreadId thread, std::source_location loc, bool may_throw) {
  RuntimeSection guard;
  Point(Op::kJoin, kNoObject, loc, WaitKind::kJoin, thread, kForever, LockMode::kExclusive, may_throw);
  if (aborting_) return;
  ThreadState& me = Me();
  race_->OnJoin(me.id, thread);
  Record(me, Op::kJoin, kNoObject, loc, thread);
  MarkProgress(me);
  CheckLiveness(may_throw);
  if (aborting_) return;
  TsanAcquire(&threads_[thread]->tsan_sync);
}

// ---- locks ----

bool Execution::Acquire(ObjRef& ref, const void* addr, ObjKind kind, LockMode mode,
                        std::int64_t timeout_ns, std::source_location loc) {
  RuntimeSection guard;
  ObjectId id = Resolve(ref, addr, kind, loc);
  const bool shared = mode == LockMode::kShared;
  const Op op = timeout_ns == 0 ? (shared ? Op::kTryLockShared : Op::kTryLock)
                                : (shared ? Op::kLockShared : Op::kLock);
  Point(op, id, loc, timeout_ns == 0 ? WaitKind::kNone : WaitKind::kLock, id, timeout_ns, mode);
  ThreadState& me = Me();
  ObjState& o = objects_[id];
  if (aborting_) {
    // Unwinding: pretend, so destructors that relock do not block.
    return true;
  }
  bool free_now = o.owner == kNoThread && (shared || o.readers.empty());
  if (!free_now) {
    Record(me, op, id, loc, 0);
    CheckLiveness();
    return false;
  }
  if (shared) {
    o.readers.push_back(me.id);
  } else {
    o.owner = me.id;
  }
  me.held.push_back({id, step_, loc, shared});
  race_->OnAcquire(me.id, id);
  if (lock_order_) {
    if (timeout_ns == 0) {
      lock_order_->OnTryAcquired(me.id, id, step_, shared);
    } else {
      lock_order_->OnAcquired(me.id, id, step_, shared);
    }
  }
  Record(me, op, id, loc, 1);
  MarkProgress(me);
  if (lock_order_) {
    if (auto cycle = lock_order_->TakeNewCycle()) {
      Finding f;
      f.kind = "lock-order-inversion";
      f.fatal = false;
      std::string chain;
      for (const auto& e : cycle->edges) chain += ObjName(e.first) + " -> ";
      if (!cycle->edges.empty()) chain += ObjName(cycle->edges.front().first);
      f.summary = fmt::format(
          "lock-order inversion: locks are taken in a cycle ({}); two threads doing this at the same "
          "time can deadlock",
          chain);
      f.details.push_back("lock-order edges (held -> then taken):");
      for (const auto& e : cycle->edges) {
        f.details.push_back(fmt::format("  {} took {} (step {}) while holding {} (step {})",
                                        ThreadName(e.thread), ObjName(e.second), e.second_step,
                                        ObjName(e.first), e.first_step));
        // Edges of earlier executions have step numbers of those executions: keep only ours.
        if (e.second_step < record_.events.size() && e.first_step < record_.events.size() &&
            record_.events[e.second_step].thread == e.thread &&
            record_.events[e.second_step].object == e.second) {
          f.steps.push_back(e.first_step);
          f.steps.push_back(e.second_step);
          f.flows.emplace_back(e.first_step, e.second_step);
        }
      }
      std::sort(f.steps.begin(), f.steps.end());
      f.steps.erase(std::unique(f.steps.begin(), f.steps.end()), f.steps.end());
      record_.findings.push_back(std::move(f));
    }
  }
  CheckLiveness();
  TsanAcquire(addr);
  return true;
}

void Execution::Release(ObjRef& ref, const void* addr, ObjKind kind, LockMode mode,
                        std::source_location loc) {
  RuntimeSection guard;
  ObjectId id = Resolve(ref, addr, kind, loc);
  const bool shared = mode == LockMode::kShared;
  TsanRelease(addr);
  Point(shared ? Op::kUnlockShared : Op::kUnlock, id, loc, WaitKind::kNone, kNoObject, kForever,
        LockMode::kExclusive, /*may_throw=*/false);
  ThreadState& me = Me();
  ObjState& o = objects_[id];
  if (shared) {
    auto it = std::find(o.readers.begin(), o.readers.end(), me.id);
    if (it != o.readers.end()) o.readers.erase(it);
  } else if (o.owner == me.id) {
    o.owner = kNoThread;
  } else if (!aborting_) {
    Finding f;
    f.kind = "assertion-failure";
    f.summary = fmt::format("assertion failure: {} unlocks {} which it does not hold ({})",
                            ThreadName(me.id), ObjName(id), Where(loc));
    f.steps.push_back(step_ ? step_ - 1 : 0);
    Fail(std::move(f), false);
    return;
  }
  for (auto it = me.held.rbegin(); it != me.held.rend(); ++it) {
    if (it->lock == id) {
      me.held.erase(std::next(it).base());
      break;
    }
  }
  if (aborting_) return;
  race_->OnRelease(me.id, id);
  if (lock_order_) lock_order_->OnReleased(me.id, id);
  Record(me, shared ? Op::kUnlockShared : Op::kUnlock, id, loc);
  CheckLiveness(false);
}

// ---- condition variables ----

bool Execution::Wait(ObjRef& cv, const void* cv_addr, ObjRef& mutex, const void* mutex_addr,
                     std::int64_t timeout_ns, std::source_location loc) {
  bool woke_by_notify = false;
  {
    RuntimeSection guard;
    ObjectId cid = Resolve(cv, cv_addr, ObjKind::kCondVar, loc);
    ObjectId mid = Resolve(mutex, mutex_addr, ObjKind::kMutex, loc);
    TsanRelease(mutex_addr);
    // Step 1: atomically release the mutex and join the waiters.
    Point(Op::kWait, cid, loc);
    if (aborting_) return true;
    ThreadState& me = Me();
    ObjState& m = objects_[mid];
    if (m.owner != me.id) {
      Finding f;
      f.kind = "assertion-failure";
      f.summary = fmt::format("assertion failure: {} waits on {} without holding {} ({})",
                              ThreadName(me.id), ObjName(cid), ObjName(mid), Where(loc));
      f.steps.push_back(step_ ? step_ - 1 : 0);
      Fail(std::move(f));
    }
    m.owner = kNoThread;
    for (auto it = me.held.rbegin(); it != me.held.rend(); ++it) {
      if (it->lock == mid) {
        me.held.erase(std::next(it).base());
        break;
      }
    }
    race_->OnRelease(me.id, mid);
    if (lock_order_) lock_order_->OnReleased(me.id, mid);
    objects_[cid].waiters.push_back(me.id);
    me.notified = false;
    Record(me, Op::kWait, cid, loc);
    CheckLiveness();
    // Step 2: woken (notify, timeout or spurious).
    Point(Op::kWake, cid, loc, WaitKind::kCondVar, cid, timeout_ns);
    if (aborting_) return true;
    ThreadState& me2 = Me();
    ObjState& c = objects_[cid];
    woke_by_notify = me2.notified;
    if (!woke_by_notify) {
      auto it = std::find(c.waiters.begin(), c.waiters.end(), me2.id);
      if (it != c.waiters.end()) c.waiters.erase(it);
      if (!(me2.deadline >= 0 && now_ns_ >= me2.deadline)) me2.spurious_used = true;
    } else {
      race_->OnAcquire(me2.id, cid);
    }
    me2.notified = false;
    Record(me2, Op::kWake, cid, loc, woke_by_notify ? 1 : 0);
    CheckLiveness();
  }
  if (woke_by_notify) TsanAcquire(cv_addr);
  // Step 3: relock.
  Acquire(mutex, mutex_addr, ObjKind::kMutex, LockMode::kExclusive, kForever, loc);
  return woke_by_notify;
}

void Execution::Notify(ObjRef& cv, const void* addr, bool all, std::source_location loc) {
  RuntimeSection guard;
  ObjectId id = Resolve(cv, addr, ObjKind::kCondVar, loc);
  TsanRelease(addr);
  const Op op = all ? Op::kNotifyAll : Op::kNotifyOne;
  Point(op, id, loc, WaitKind::kNone, kNoObject, kForever, LockMode::kExclusive, false);
  if (aborting_) return;
  ThreadState& me = Me();
  ObjState& c = objects_[id];
  race_->OnRelease(me.id, id);
  std::int64_t woken = 0;
  while (!c.waiters.empty()) {
    threads_[c.waiters.front()]->notified = true;
    c.waiters.erase(c.waiters.begin());
    ++woken;
    if (!all) break;
  }
  if (woken == 0) {
    c.lost_signal = step_;
    c.lost_signal_loc = loc;
  }
  c.last_signal = step_;
  c.last_signal_loc = loc;
  Record(me, op, id, loc, woken);
  CheckLiveness(false);
}

// ---- semaphores ----

bool Execution::SemAcquire(ObjRef& ref, const void* addr, std::int64_t initial,
                           std::int64_t timeout_ns, std::source_location loc) {
  {
    RuntimeSection guard;
    ObjectId id = Resolve(ref, addr, ObjKind::kSemaphore, loc, initial);
    const Op op = timeout_ns == 0 ? Op::kSemTryAcquire : Op::kSemAcquire;
    Point(op, id, loc, timeout_ns == 0 ? WaitKind::kNone : WaitKind::kSem, id, timeout_ns);
    if (aborting_) return true;
    ThreadState& me = Me();
    ObjState& o = objects_[id];
    if (o.count <= 0) {
      Record(me, op, id, loc, 0);
      CheckLiveness();
      return false;
    }
    --o.count;
    race_->OnAcquire(me.id, id);
    Record(me, op, id, loc, 1);
    MarkProgress(me);
    CheckLiveness();
  }
  TsanAcquire(addr);
  return true;
}

void Execution::SemRelease(ObjRef& ref, const void* addr, std::int64_t initial, std::int64_t n,
                           std::source_location loc) {
  RuntimeSection guard;
  ObjectId id = Resolve(ref, addr, ObjKind::kSemaphore, loc, initial);
  TsanRelease(addr);
  Point(Op::kSemRelease, id, loc, WaitKind::kNone, kNoObject, kForever, LockMode::kExclusive, false);
  if (aborting_) return;
  ThreadState& me = Me();
  ObjState& o = objects_[id];
  o.count += n;
  o.last_signal = step_;
  o.last_signal_loc = loc;
  race_->OnRelease(me.id, id);
  Record(me, Op::kSemRelease, id, loc, n);
  CheckLiveness(false);
}

// ---- memory ----

void Execution::AtomicPoint(ObjRef& ref, const void* addr, Op op, bool acquire, bool release,
                            std::source_location loc) {
  RuntimeSection guard;
  ObjectId id = Resolve(ref, addr, ObjKind::kAtomic, loc);
  Point(op, id, loc);
  if (aborting_) return;
  ThreadState& me = Me();
  if (acquire) race_->OnAcquire(me.id, id);
  if (release) race_->OnRelease(me.id, id);
  Record(me, op, id, loc);
  CheckLiveness();
}

void Execution::Access(ObjRef& ref, const void* addr, bool is_write, std::source_location loc) {
  RuntimeSection guard;
  ObjectId id = Resolve(ref, addr, ObjKind::kShared, loc);
  const Op op = is_write ? Op::kWrite : Op::kRead;
  Point(op, id, loc);
  if (aborting_) return;
  ThreadState& me = Me();
  const StepIndex step = step_;
  Record(me, op, id, loc);
  if (auto race = race_->OnAccess(me.id, id, is_write, step)) {
    const Event& a = record_.events[race->earlier.step];
    const Event& b = record_.events[race->later.step];
    Finding f;
    f.kind = "data-race";
    f.summary = fmt::format(
        "data race on {}: {} {}s it at {} (step {}) and {} {}s it at {} (step {}) with nothing "
        "ordering the two",
        ObjName(id), ThreadName(a.thread), race->earlier.is_write ? "write" : "read", Where(a.loc),
        a.step, ThreadName(b.thread), race->later.is_write ? "write" : "read", Where(b.loc), b.step);
    f.details.push_back(fmt::format(
        "  no lock, semaphore, condvar, join or acquire/release atomic orders step {} before step {}",
        a.step, b.step));
    f.steps = {a.step, b.step};
    f.flows.emplace_back(a.step, b.step);
    Fail(std::move(f));
  }
  CheckLiveness();
}

// ---- the rest ----

void Execution::Yield(std::source_location loc) {
  RuntimeSection guard;
  Point(Op::kYield, kNoObject, loc);
  if (aborting_) return;
  Record(Me(), Op::kYield, kNoObject, loc);
  CheckLiveness();
}

void Execution::Sleep(std::int64_t ns, std::source_location loc) {
  RuntimeSection guard;
  Point(Op::kSleep, kNoObject, loc, WaitKind::kSleep, kNoObject, ns < 0 ? 0 : ns);
  if (aborting_) return;
  Record(Me(), Op::kSleep, kNoObject, loc, ns);
  CheckLiveness();
}

std::uint64_t Execution::Random(std::uint64_t n, std::source_location loc) {
  RuntimeSection guard;
  Point(Op::kRandom, kNoObject, loc);
  if (aborting_ || n <= 1) {
    if (!aborting_) Record(Me(), Op::kRandom, kNoObject, loc, 0);
    return 0;
  }
  Choices c;
  c.kind = Choices::Kind::kValue;
  c.count = n;
  c.current = current_;
  c.current_enabled = true;
  c.index = record_.choices.size();
  c.step = step_;
  std::uint64_t v = strategy_.Pick(c) % n;
  record_.choices.push_back(static_cast<std::uint32_t>(v));
  Record(Me(), Op::kRandom, kNoObject, loc, static_cast<std::int64_t>(v));
  CheckLiveness();
  return v;
}

void Execution::Progress(std::source_location loc) {
  RuntimeSection guard;
  Point(Op::kProgress, kNoObject, loc);
  if (aborting_) return;
  Record(Me(), Op::kProgress, kNoObject, loc);
  MarkProgress(Me(), true);
  CheckLiveness();
}

void Execution::AssertFailed(const std::string& message, std::source_location loc) {
  RuntimeSection guard;
  if (aborting_) throw AbortExecution{};
  ThreadState& me = Me();
  Record(me, Op::kAssert, kNoObject, loc);
  Finding f;
  f.kind = "assertion-failure";
  f.summary = fmt::format("assertion failure in {} at {}: {}", ThreadName(me.id), Where(loc), message);
  f.steps.push_back(step_ - 1);
  Fail(std::move(f));
  throw AbortExecution{};  // resumed during an unwinding: nothing else is safe
}

std::int64_t Execution::NowNs() const {
  RuntimeSection guard;
  return now_ns_;
}

ThreadId Execution::CurrentThread() const {
  RuntimeSection guard;
  return current_;
}

// ---- driving one execution ----

void Execution::Teardown() {
  // Newest first: a thread uses objects on its creator's stack (the body's locals), so the creator
  // must unwind after it.
  for (auto it = threads_.rbegin(); it != threads_.rend(); ++it) {
    const auto& t = *it;
    if (t->finished) continue;
    if (t->started) {
      current_ = t->id;
      backend_.Switch(kNoThread, t->id);   // it unwinds and exits back here
    } else {
      // Never ran: drop its function here, outside any controlled thread.
      t->fn = nullptr;
      t->finished = true;
    }
  }
  current_ = kNoThread;
}

ExecutionRecord Execution::Run(const std::function<void()>& body, std::uint64_t seed) {
  RuntimeSection guard;
  generation_ = ++g_generation;
  threads_.clear();
  objects_.clear();
  objects_.emplace_back();   // ObjectId 0 is "none"
  record_ = ExecutionRecord{};
  record_.objects.push_back(ObjectInfo{ObjKind::kMutex, "none", {}});
  current_ = kNoThread;
  now_ns_ = 0;
  step_ = 0;
  pending_choice_ = -1;
  pending_alternatives_ = 1;
  aborting_ = false;
  last_global_progress_ = 0;
  explicit_progress_ = false;
  race_->Reset();
  if (lock_order_) lock_order_->Reset();
  strategy_.NewExecution(seed);

  Execution* outer = tls_execution;
  tls_execution = this;
  auto t = std::make_unique<ThreadState>();
  t->ex = this;
  t->id = 0;
  t->fn = [&body] { body(); };
  t->started = true;
  record_.threads.push_back(ThreadInfo{"main", std::source_location::current()});
  backend_.Create(0, &ThreadEntry, t.get());
  threads_.push_back(std::move(t));
  current_ = 0;
  TsanRelease(&threads_[0]->tsan_sync);
  backend_.Switch(kNoThread, 0);
  if (aborting_) Teardown();
  TsanAcquire(&controller_sync_);
  backend_.Reset();
  tls_execution = outer;

  record_.completed = record_.Fatal() == nullptr;
  for (const auto& th : threads_) {
    record_.max_bypass.push_back(std::max<std::uint64_t>(
        th->max_bypass, th->finished ? 0 : step_ - th->last_progress));
  }
  strategy_.EndExecution(record_.choices.size());
  threads_.clear();
  return std::move(record_);
}

}  // namespace lab::rt
