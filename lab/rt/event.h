// lab/rt/event.h: one entry of an execution's event log — the single source of truth that
// detectors read, reports are cut from and replay is checked against.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

#include "lab/rt/ids.h"

namespace lab::rt {

enum class Op : std::uint8_t {
  kBegin,            // the test body starts
  kSpawn, kJoin, kExit,
  kLock, kTryLock, kUnlock,
  kLockShared, kTryLockShared, kUnlockShared,
  kWait,             // condvar: release the mutex and start waiting
  kWake,             // condvar: woken (notified, timed out or spurious), before relocking
  kNotifyOne, kNotifyAll,
  kSemAcquire, kSemTryAcquire, kSemRelease,
  kLoad, kStore, kRmw, kCas,   // lab::Atomic
  kRead, kWrite,               // lab::Shared
  kYield, kSleep, kRandom, kProgress, kAssert,
};
const char* OpName(Op op);

enum class ObjKind : std::uint8_t { kThread, kMutex, kRwLock, kCondVar, kSemaphore, kAtomic, kShared };
const char* ObjKindName(ObjKind kind);

struct Event {
  StepIndex step = 0;
  ThreadId thread = kNoThread;
  Op op = Op::kYield;
  ObjectId object = kNoObject;
  std::source_location loc;
  std::int32_t choice = -1;         // index picked among `alternatives`; -1: no choice was made
  std::uint32_t alternatives = 1;
  std::int64_t value = 0;           // op result: spawned thread, random value, 1/0 for try ops...
};

// What a report needs to name a thread or object after the execution is gone.
struct ThreadInfo {
  std::string name;                 // "main", "T1", ...
  std::source_location spawned_at;
};
struct ObjectInfo {
  ObjKind kind = ObjKind::kMutex;
  std::string name;                 // "mutex#3" unless the user named it
  std::source_location created_at;
};

}  // namespace lab::rt
