// Reference solution of exercise barrier (teachers: remove it from the copy you hand out).
// Two turnstiles: nobody leaves the phase (and laps into the next one) before everyone has gone
// through the first turnstile, so the permits of one phase cannot be taken in the next.
#include "problems/exercises/barrier.h"

namespace exercises::barrier {
namespace {

class TwoTurnstileBarrier final : public Barrier {
 public:
  explicit TwoTurnstileBarrier(int n) : n_(n) {}

  void ArriveAndWait() override {
    mutex_.lock();
    count_.write(count_.read() + 1);
    if (count_.read() == n_) in_.release(n_);   // the last in opens the first turnstile
    mutex_.unlock();
    in_.acquire();

    mutex_.lock();
    count_.write(count_.read() - 1);
    if (count_.read() == 0) out_.release(n_);   // the last out opens the second
    mutex_.unlock();
    out_.acquire();
  }

 private:
  const int n_;
  lab::Mutex mutex_{"barrier.mutex"};
  lab::Shared<int> count_ LAB_GUARDED_BY(mutex_){0, "count"};
  lab::Semaphore in_{0, "turnstile_in"};
  lab::Semaphore out_{0, "turnstile_out"};
};

}  // namespace

std::unique_ptr<Barrier> MakeBarrier(int n) { return std::make_unique<TwoTurnstileBarrier>(n); }

}  // namespace exercises::barrier
