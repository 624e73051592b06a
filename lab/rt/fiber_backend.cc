#include "lab/rt/fiber_backend.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "lab/rt/sanitizer.h"

#if defined(LAB_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace lab::rt {

struct FiberBackend::Fiber {
  ucontext_t ctx{};
  void* stack = nullptr;
  std::size_t stack_size = 0;
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
  FiberBackend* owner = nullptr;
#if defined(LAB_TSAN)
  void* tsan = nullptr;
#endif
#if defined(LAB_ASAN)
  const void* asan_bottom = nullptr;   // known for the controller only after its first switch
  std::size_t asan_size = 0;
#endif
};

namespace {
std::size_t DefaultStack() {
#if defined(LAB_TSAN) || defined(LAB_ASAN)
  return std::size_t{512} << 10;
#else
  return std::size_t{256} << 10;
#endif
}
}  // namespace

FiberBackend::FiberBackend(std::size_t stack_bytes)
    : stack_bytes_(stack_bytes ? stack_bytes : DefaultStack()), controller_(new Fiber) {
#if defined(LAB_TSAN)
  controller_->tsan = __tsan_get_current_fiber();
#endif
}

FiberBackend::~FiberBackend() { Release(); }

FiberBackend::Fiber& FiberBackend::Get(ThreadId id) {
  if (id == kNoThread) return *controller_;
  return *fibers_[id];
}

void FiberBackend::Trampoline(unsigned lo, unsigned hi) {
  auto* f = reinterpret_cast<Fiber*>((std::uintptr_t{hi} << 32) | std::uintptr_t{lo});
#if defined(LAB_ASAN)
  // Finish the switch that started us; learn the stack we came from if it is the controller's.
  const void* from_bottom = nullptr;
  std::size_t from_size = 0;
  __sanitizer_finish_switch_fiber(nullptr, &from_bottom, &from_size);
  if (!f->owner->controller_->asan_bottom) {
    f->owner->controller_->asan_bottom = from_bottom;
    f->owner->controller_->asan_size = from_size;
  }
#endif
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
  {
    RuntimeSection hidden;
    entry = f->entry;
    arg = f->arg;
  }
  entry(arg);
  std::fputs("lab: a fiber's entry returned\n", stderr);
  std::abort();
}

void FiberBackend::Create(ThreadId id, void (*entry)(void*), void* arg) {
  RuntimeSection hidden;
  if (fibers_.size() <= id) fibers_.resize(id + 1);
  // Fibers are pooled by ThreadId across executions: stack and TSan context are reused. For TSan
  // the reused context is "the same thread continuing", which orders it only after its own past
  // (the previous execution), so races between two threads of one execution stay visible; a
  // fresh context and stack per thread would cost TSan a shadow reset of the whole stack each time.
  auto& slot = fibers_[id];
  if (!slot) {
    slot = std::make_unique<Fiber>();
    slot->owner = this;
    slot->stack_size = stack_bytes_;
    slot->stack = std::malloc(stack_bytes_);
    if (!slot->stack) {
      std::fputs("lab: out of memory for a fiber stack\n", stderr);
      std::abort();
    }
#if defined(LAB_TSAN)
    slot->tsan = __tsan_create_fiber(0);
#endif
  }
  Fiber* f = slot.get();
  f->entry = entry;
  f->arg = arg;
#if defined(LAB_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(f->stack, f->stack_size);
#endif
  getcontext(&f->ctx);
  f->ctx.uc_stack.ss_sp = f->stack;
  f->ctx.uc_stack.ss_size = f->stack_size;
  f->ctx.uc_link = nullptr;
  auto p = reinterpret_cast<std::uintptr_t>(f);
  makecontext(&f->ctx, reinterpret_cast<void (*)()>(&Trampoline), 2,
              static_cast<unsigned>(p & 0xffffffffu), static_cast<unsigned>(p >> 32));
}

void FiberBackend::Jump(Fiber& from, Fiber& to, [[maybe_unused]] bool from_exits) {
#if defined(LAB_TSAN)
  void* target = to.tsan;
  // The runtime calls us inside a RuntimeSection; a fiber that exits never returns to end it.
  if (from_exits) RuntimeSection::EndForExit();
  __tsan_switch_to_fiber(target, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(LAB_ASAN)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &fake_stack,
                                 &to == controller_.get() ? to.asan_bottom : to.stack,
                                 &to == controller_.get() ? to.asan_size : to.stack_size);
  swapcontext(&from.ctx, &to.ctx);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  swapcontext(&from.ctx, &to.ctx);
#endif
}

void FiberBackend::Switch(ThreadId from, ThreadId to) { Jump(Get(from), Get(to), false); }

void FiberBackend::Exit(ThreadId from, ThreadId to) {
  Jump(Get(from), Get(to), true);
  std::fputs("lab: an exited fiber was resumed\n", stderr);
  std::abort();
}

void FiberBackend::Reset() {
  // Every fiber has exited (or never started): the pool is ready for the next execution.
}

void FiberBackend::Release() {
  RuntimeSection hidden;
  for (auto& f : fibers_) {
    if (!f) continue;
#if defined(LAB_TSAN)
    __tsan_destroy_fiber(f->tsan);
#endif
    std::free(f->stack);
  }
  fibers_.clear();
}

}  // namespace lab::rt
