// Reference solution of exercise lazy_init (teachers: remove it from the copy you hand out).
#include "problems/exercises/lazy_init.h"

namespace exercises::lazy_init {
namespace {

class SafeLazy final : public Lazy {
 public:
  ~SafeLazy() override { delete resource_.load(std::memory_order_relaxed); }

  Resource* Get() override {
    // Acquire pairs with the release below: seeing the pointer means seeing the built resource.
    if (Resource* r = resource_.load(std::memory_order_acquire)) return r;
    lab::MutexLock lock(mutex_);   // one creator; the others wait and then see its pointer
    Resource* r = resource_.load(std::memory_order_relaxed);
    if (r == nullptr) {
      r = CreateResource();
      resource_.store(r, std::memory_order_release);
    }
    return r;
  }

 private:
  lab::Mutex mutex_{"lazy.mutex"};
  lab::Atomic<Resource*> resource_{nullptr, "resource"};
};

}  // namespace

std::unique_ptr<Lazy> MakeLazy() { return std::make_unique<SafeLazy>(); }

}  // namespace exercises::lazy_init
