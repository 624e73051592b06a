// properties/planted/planted_semaphore.h: a TEST-ONLY System V semaphore wrapper with a planted
// crash-safety bug: it drops the `undo` flag (no SEM_UNDO), so the kernel does not reverse the
// operations of a process that dies, and a holder killed between its wait and its post keeps the
// count for ever. Everything else is passed through. Used by semaphore_model_property_test to show
// the model-based property catches and shrinks it.
#pragma once

#include <chrono>
#include <string_view>

#include "ipc/sync/semaphore.h"
#include "ipc/sys/sys.h"

namespace properties::planted {

class NoUndoSysvSemaphore {
 public:
  static ipc::sys::Result<NoUndoSysvSemaphore> Create(std::string_view purpose, int count, unsigned initial) {
    auto s = ipc::sync::SysvSemaphoreSet::Create(purpose, count, initial);
    if (!s) return std::unexpected(s.error());
    return NoUndoSysvSemaphore(std::move(*s));
  }
  // PLANTED BUG: `undo` is ignored (never SEM_UNDO).
  ipc::sys::Status Post(int index, bool /*undo*/) { return set_.Post(index, false); }
  ipc::sys::Result<bool> TryWait(int index, bool /*undo*/) { return set_.TryWait(index, false); }
  ipc::sys::Status WaitFor(std::chrono::milliseconds d, int index, bool /*undo*/) {
    return set_.WaitFor(d, index, false);
  }
  ipc::sys::Result<int> Value(int index) { return set_.Value(index); }

 private:
  explicit NoUndoSysvSemaphore(ipc::sync::SysvSemaphoreSet set) : set_(std::move(set)) {}
  ipc::sync::SysvSemaphoreSet set_;
};

}  // namespace properties::planted
