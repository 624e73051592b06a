// lab/sync/thread.h: lab::Thread — a std::thread outside an exploration, a controlled thread
// under one. Joins in its destructor if still joinable (like std::jthread).
#pragma once

#include <functional>
#include <source_location>
#include <thread>
#include <utility>

#include "lab/rt/execution.h"

namespace lab {

class Thread {
 public:
  Thread() = default;
  template <class F>
    requires std::is_invocable_v<F&>
  explicit Thread(F&& f, std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      id_ = ex->Spawn(std::function<void()>(std::forward<F>(f)), loc);
      controlled_ = true;
    } else {
      real_ = std::thread(std::forward<F>(f));
    }
  }
  Thread(Thread&& o) noexcept
      : real_(std::move(o.real_)), id_(std::exchange(o.id_, kNoThread)),
        controlled_(std::exchange(o.controlled_, false)) {}
  Thread& operator=(Thread&& o) noexcept {
    if (this != &o) {
      if (joinable()) join();
      real_ = std::move(o.real_);
      id_ = std::exchange(o.id_, kNoThread);
      controlled_ = std::exchange(o.controlled_, false);
    }
    return *this;
  }
  ~Thread() {
    if (controlled_) {
      controlled_ = false;
      // No exception out of a destructor: if the execution ends while we wait here, return.
      if (auto* ex = rt::Execution::Current()) ex->Join(id_, std::source_location::current(), false);
    } else if (real_.joinable()) {
      real_.join();
    }
  }

  bool joinable() const { return controlled_ || real_.joinable(); }
  void join(std::source_location loc = std::source_location::current()) {
    if (controlled_) {
      controlled_ = false;
      // Outside the execution (it ended early) there is nothing left to wait for.
      if (auto* ex = rt::Execution::Current()) ex->Join(id_, loc);
      return;
    }
    if (real_.joinable()) real_.join();
  }
  // The controlled thread's id in this execution (kNoThread outside an exploration).
  ThreadId id() const { return id_; }

 private:
  std::thread real_;
  ThreadId id_ = kNoThread;
  bool controlled_ = false;
};

}  // namespace lab
