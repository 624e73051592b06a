// lab/rt/fiber_backend.h: controlled threads as ucontext fibers (swapcontext), one OS thread.
//
// Sanitizers: under TSan each fiber gets its own TSan context (__tsan_create_fiber) and switches
// are announced with __tsan_switch_to_fiber(f, __tsan_switch_to_fiber_no_sync), so TSan sees no
// ordering between two steps and still reports real races between fibers; the facade tells TSan
// about the synchronization it models (__tsan_acquire/__tsan_release). Under ASan every switch is
// bracketed by __sanitizer_start_switch_fiber/__sanitizer_finish_switch_fiber so stack
// bookkeeping (fake stacks, use-after-return) follows the fiber.
#pragma once

#include <ucontext.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "lab/rt/backend.h"

namespace lab::rt {

class FiberBackend final : public Backend {
 public:
  explicit FiberBackend(std::size_t stack_bytes = 0);  // 0: a default sized for the build
  ~FiberBackend() override;

  void Create(ThreadId id, void (*entry)(void*), void* arg) override;
  void Switch(ThreadId from, ThreadId to) override;
  [[noreturn]] void Exit(ThreadId from, ThreadId to) override;
  void Reset() override;

 private:
  struct Fiber;
  Fiber& Get(ThreadId id);
  static void Trampoline(unsigned lo, unsigned hi);
  void Jump(Fiber& from, Fiber& to, bool from_exits);
  void Release();

  std::size_t stack_bytes_;
  std::unique_ptr<Fiber> controller_;
  std::vector<std::unique_ptr<Fiber>> fibers_;   // by ThreadId, pooled across executions
};

}  // namespace lab::rt
