// Exercise lazy_init: create the resource once, and let every thread see it safely (README.md).
// Grade it with: tools/ipclab check lazy_init docs/exercises/lazy_init/starter.cc
#include "problems/exercises/lazy_init.h"

namespace exercises::lazy_init {
namespace {

class DoubleCheckedLazy final : public Lazy {
 public:
  ~DoubleCheckedLazy() override { delete resource_.read(); }

  Resource* Get() override {
    if (resource_.read() == nullptr) {   // fast path: no lock once it exists
      lab::MutexLock lock(mutex_);
      if (resource_.read() == nullptr) resource_.write(CreateResource());
    }
    return resource_.read();
  }

 private:
  lab::Mutex mutex_{"lazy.mutex"};
  lab::Shared<Resource*> resource_{nullptr, "resource"};
};

}  // namespace

std::unique_ptr<Lazy> MakeLazy() { return std::make_unique<DoubleCheckedLazy>(); }

}  // namespace exercises::lazy_init
