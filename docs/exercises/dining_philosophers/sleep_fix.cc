// A WRONG fix of exercise dining_philosophers, planted for teaching: philosopher p waits p * 10 ms
// before reaching for the forks, "so that they do not all grab their left fork at once". The
// circular wait is still possible (a philosopher who is slow to eat, or descheduled, lets the
// others catch up), and `ipclab check` grades with adversarial time: it fails every time.
#include <array>
#include <chrono>

#include "problems/exercises/dining_philosophers.h"

namespace exercises::dining_philosophers {
namespace {

class StaggeredTable final : public Table {
 public:
  // Locks taken here are released in PutDown: beyond what -Wthread-safety can follow.
  void PickUp(int p) override LAB_NO_THREAD_SAFETY_ANALYSIS {
    lab::sleep_for(std::chrono::milliseconds(10 * p));   // stagger the philosophers
    forks_[Left(p)].lock();
    forks_[Right(p)].lock();
  }
  void PutDown(int p) override LAB_NO_THREAD_SAFETY_ANALYSIS {
    forks_[Right(p)].unlock();
    forks_[Left(p)].unlock();
  }

 private:
  static int Left(int p) { return p; }
  static int Right(int p) { return (p + 1) % kPhilosophers; }
  std::array<lab::Mutex, kPhilosophers> forks_;
};

}  // namespace

std::unique_ptr<Table> MakeTable() { return std::make_unique<StaggeredTable>(); }

}  // namespace exercises::dining_philosophers
