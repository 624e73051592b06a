// properties/planted/planted_signal.h: a TEST-ONLY receiver of blocked signals with a planted
// queueing bug: it asks which signal NUMBERS are pending (sigpending) and takes each number once
// (sigtimedwait), as if every signal coalesced. A real-time signal queued twice before a receive
// comes out once; the second instance (and its value) stays pending until the next receive, so
// values arrive late and out of step with their sends. Standard signals come out right. Used by
// signal_model_property_test to show the model-based property catches and shrinks it.
#pragma once

#include <signal.h>

#include <chrono>
#include <thread>
#include <vector>

#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace properties::planted {

class PendingSetReceiver {
 public:
  // The pending signals of `watched` (blocked in this thread), waiting until `deadline` for one.
  static ipc::sys::Result<std::vector<siginfo_t>> Wait(const sigset_t& watched, ipc::sys::Deadline deadline) {
    for (;;) {
      sigset_t pending;
      if (auto r = ipc::sys::Call("sigpending", "planted receiver", [&] { return ::sigpending(&pending); }); !r) {
        return std::unexpected(r.error());
      }
      std::vector<siginfo_t> out;
      for (int s = 1; s < NSIG; ++s) {
        if (!sigismember(&watched, s) || !sigismember(&pending, s)) continue;
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, s);
        const timespec now{0, 0};
        siginfo_t info{};
        // PLANTED BUG: one sigtimedwait per pending number; a queued real-time signal needs one each.
        auto r = ipc::sys::Call("sigtimedwait", "planted receiver", [&] { return ::sigtimedwait(&one, &info, &now); });
        if (r) out.push_back(info);
      }
      if (!out.empty() || deadline.expired()) return out;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
};

}  // namespace properties::planted
