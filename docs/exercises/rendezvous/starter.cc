// Exercise rendezvous: two threads meet, using two semaphores (see README.md).
// Grade it with: tools/ipclab check rendezvous docs/exercises/rendezvous/starter.cc
#include <array>

#include "problems/exercises/rendezvous.h"

namespace exercises::rendezvous {
namespace {

class SemaphoreRendezvous final : public Rendezvous {
 public:
  void Arrive(int me) override {
    const int other = 1 - me;
    arrived_[other].acquire();   // wait until the other one is here...
    arrived_[me].release();      // ...then say that I am here
  }

 private:
  std::array<lab::Semaphore, 2> arrived_{lab::Semaphore(0, "arrived[0]"),
                                         lab::Semaphore(0, "arrived[1]")};
};

}  // namespace

std::unique_ptr<Rendezvous> MakeRendezvous() { return std::make_unique<SemaphoreRendezvous>(); }

}  // namespace exercises::rendezvous
