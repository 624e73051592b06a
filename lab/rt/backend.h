// lab/rt/backend.h: how a controlled thread is suspended and resumed.
//
// The scheduler (Execution) decides who runs; a Backend only knows how to stop the caller and
// continue another controlled thread. The fiber backend (fiber_backend.h) runs every controlled
// thread of an in-process test as a ucontext fiber on the OS thread that called lab::Explore.
// Real-thread and process backends (layer 4) implement the same interface, which is why the
// controller is a participant too: it is addressed as kNoThread.
#pragma once

#include "lab/rt/ids.h"

namespace lab::rt {

class Backend {
 public:
  virtual ~Backend() = default;
  // Prepares controlled thread `id`; when first resumed it calls entry(arg), which never returns
  // (it ends with Exit).
  virtual void Create(ThreadId id, void (*entry)(void* arg), void* arg) = 0;
  // Suspends the caller `from` (a controlled thread, or kNoThread for the controller) and resumes
  // `to`. Returns when someone switches back to `from`.
  virtual void Switch(ThreadId from, ThreadId to) = 0;
  // The caller `from` has finished for good: resume `to` and release what `from` used.
  [[noreturn]] virtual void Exit(ThreadId from, ThreadId to) = 0;
  // Forgets every thread (after each has exited or was never started): a new execution.
  virtual void Reset() = 0;
};

}  // namespace lab::rt
