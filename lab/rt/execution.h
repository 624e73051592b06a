// lab/rt/execution.h: one controlled execution of a test body.
//
// Execution owns the controlled threads, the modeled state of every facade object, the virtual
// clock and the event log. Only one controlled thread runs at a time. Every facade operation calls
// one of the entry points below, which is a scheduling point: the current thread declares the
// operation it is about to perform (and, for a blocking one, what it waits for); the strategy
// picks, among the threads whose pending operation can proceed ("enabled"), who performs its
// operation next. A blocked thread is never blocked in the OS: it is simply not enabled.
//
// Code between two facade operations is invisible to the scheduler (it touches no shared state
// the lab can see); a thread that was just spawned therefore runs to its first facade operation
// and performs it without a separate choice.
//
// The facade reaches the execution through Execution::Current(), non-null exactly while a
// controlled thread runs. Facade objects carry an ObjRef and are registered lazily per execution.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "lab/rt/backend.h"
#include "lab/rt/event.h"
#include "lab/rt/finding.h"
#include "lab/rt/ids.h"
#include "lab/strategy/strategy.h"

namespace lab {
class RaceDetector;
class LockOrderDetector;
}  // namespace lab

namespace lab::rt {

// A facade object's identity in the current execution (registered on first use).
struct ObjRef {
  std::uint64_t generation = 0;
  ObjectId id = kNoObject;
  const char* name = nullptr;   // a name for reports ("queue.lock"); static storage
};

struct ExecutionConfig {
  std::uint64_t max_steps = 20000;        // a longer execution is reported (livelock or hang)
  std::uint64_t starvation_bound = 2000;  // steps without progress (see detect/starvation.h)
  bool spurious_wakeups = false;          // condvar waits may return unnotified (a choice)
  std::int64_t tick_ns = 1000;            // virtual time advanced per step
  // Fairness: a thread that has run this many steps since anyone last made progress (a spinner)
  // is passed over while a thread that has not is enabled (CHESS-style fair scheduling), so
  // unfair schedules (PCT priorities, DFS's first branch, shrunk schedules) do not pose as
  // livelocks. 0 disables.
  std::uint64_t fair_threshold = 64;
  double watchdog_deadline = 0;           // absolute steady-clock seconds; 0: none
};

// What remains of an execution once it is over: all a report and a replay check need.
struct ExecutionRecord {
  std::vector<Event> events;
  std::vector<std::uint32_t> choices;     // the schedule (see strategy.h)
  std::vector<ThreadInfo> threads;
  std::vector<ObjectInfo> objects;        // by ObjectId (index 0 unused)
  std::vector<Finding> findings;          // the fatal one, if any, is last
  std::vector<std::uint64_t> max_bypass;  // by thread: longest stretch without progress (steps)
  std::uint64_t preemptions = 0;
  bool completed = false;                 // every thread finished
  const Finding* Fatal() const {
    return !findings.empty() && findings.back().fatal ? &findings.back() : nullptr;
  }
};

enum class LockMode : std::uint8_t { kExclusive, kShared };

// Timeouts: kForever blocks, 0 is a try, a positive value waits that long in virtual time.
inline constexpr std::int64_t kForever = -1;

class Execution {
 public:
  // Persistent across executions: the strategy and (optionally) detectors whose state spans runs.
  Execution(Backend& backend, Strategy& strategy, const ExecutionConfig& config,
            LockOrderDetector* lock_order);
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // Runs `body` as thread 0 (and everything it spawns) to the end or to a fatal finding.
  ExecutionRecord Run(const std::function<void()>& body, std::uint64_t seed);

  static Execution* Current();

  // ---- entry points for the facade (all are scheduling points) ----
  ThreadId Spawn(std::function<void()> fn, std::source_location loc);
  void Join(ThreadId thread, std::source_location loc, bool may_throw = true);
  // Lock family; returns false when a try/timed attempt gave up.
  bool Acquire(ObjRef& ref, const void* addr, ObjKind kind, LockMode mode, std::int64_t timeout_ns,
               std::source_location loc);
  void Release(ObjRef& ref, const void* addr, ObjKind kind, LockMode mode, std::source_location loc);
  // Condition variables: unlocks `mutex`, waits, relocks. Returns false on timeout.
  bool Wait(ObjRef& cv, const void* cv_addr, ObjRef& mutex, const void* mutex_addr,
            std::int64_t timeout_ns, std::source_location loc);
  void Notify(ObjRef& cv, const void* addr, bool all, std::source_location loc);
  // Semaphores: `initial` is used when the object is first seen in this execution.
  bool SemAcquire(ObjRef& ref, const void* addr, std::int64_t initial, std::int64_t timeout_ns,
                  std::source_location loc);
  void SemRelease(ObjRef& ref, const void* addr, std::int64_t initial, std::int64_t n,
                  std::source_location loc);
  // Atomics: the scheduling point before the real std::atomic operation; `acquire`/`release`
  // feed the race detector's happens-before.
  void AtomicPoint(ObjRef& ref, const void* addr, Op op, bool acquire, bool release,
                   std::source_location loc);
  // lab::Shared accesses: a scheduling point, then the race check.
  void Access(ObjRef& ref, const void* addr, bool is_write, std::source_location loc);
  void Yield(std::source_location loc);
  void Sleep(std::int64_t ns, std::source_location loc);
  std::uint64_t Random(std::uint64_t n, std::source_location loc);
  void Progress(std::source_location loc);
  [[noreturn]] void AssertFailed(const std::string& message, std::source_location loc);
  std::int64_t NowNs() const;
  ThreadId CurrentThread() const;
  // Names an object in reports ("queue.mutex"); takes effect for the current execution.
  void NameObject(ObjRef& ref, const void* addr, ObjKind kind, std::string name);

 private:
  struct ThreadState;
  struct ObjState;
  enum class WaitKind : std::uint8_t { kNone, kLock, kSem, kCondVar, kJoin, kSleep };

  ObjectId Resolve(ObjRef& ref, const void* addr, ObjKind kind, std::source_location loc,
                   std::int64_t initial = 0);
  ThreadState& Me();
  bool Enabled(const ThreadState& t) const;
  bool Satisfied(const ThreadState& t) const;   // enabled for its wait, not merely timed out
  // The scheduling point: declare, choose, switch; returns when the caller may perform its op.
  void Point(Op op, ObjectId obj, std::source_location loc, WaitKind wait = WaitKind::kNone,
             ObjectId wait_on = kNoObject, std::int64_t timeout_ns = kForever,
             LockMode mode = LockMode::kExclusive, bool may_throw = true);
  // Picks the next thread and transfers control; `me_runnable` false when the caller finished.
  void Schedule(bool caller_finished);
  void Record(ThreadState& t, Op op, ObjectId obj, std::source_location loc, std::int64_t value = 0);
  void MarkProgress(ThreadState& t, bool explicit_call = false);
  void CheckLiveness(bool may_throw = true);
  // Ends the execution with `finding`: control goes to the controller, which later resumes this
  // thread to unwind it. Operations that run in destructors (unlock, notify, post, the join of
  // ~Thread) pass may_throw = false: they return instead, and the thread unwinds at its next
  // throwing operation.
  void Fail(Finding finding, bool may_throw = true);
  void Deadlock();
  void Teardown();
  static void ThreadEntry(void* arg);
  void FinishThread(ThreadState& t);
  std::string ThreadName(ThreadId t) const;
  std::string ObjName(ObjectId o) const;
  static std::string Where(std::source_location loc);

  Backend& backend_;
  Strategy& strategy_;
  ExecutionConfig config_;
  LockOrderDetector* lock_order_;
  std::unique_ptr<RaceDetector> race_;
  std::uint64_t generation_ = 0;
  std::vector<std::unique_ptr<ThreadState>> threads_;
  std::vector<ObjState> objects_;
  ExecutionRecord record_;
  ThreadId current_ = kNoThread;
  std::int64_t now_ns_ = 0;
  StepIndex step_ = 0;
  std::int32_t pending_choice_ = -1;
  std::uint32_t pending_alternatives_ = 1;
  bool aborting_ = false;
  bool running_ = false;
  StepIndex last_global_progress_ = 0;
  bool explicit_progress_ = false;
  bool point_may_throw_ = true;      // of the scheduling point in progress (for Deadlock)   // once lab::progress() is called, only it counts
  std::vector<ThreadId> scratch_;
  char controller_sync_ = 0;   // TSan: every thread's end happens-before Run returns
};

// Thrown into a controlled thread to unwind it when the execution ends early. Not derived from
// std::exception; code that swallows it with catch (...) is unwound again at its next operation.
struct AbortExecution {};

}  // namespace lab::rt
