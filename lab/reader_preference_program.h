// A planted starvation bug shared by the tests that need one (lab/liveness_test.cc,
// lab/report/html_test.cc): a hand-rolled readers-writer lock and a program in which three
// readers and one writer (T4) use it.
#ifndef IPCLAB_LAB_READER_PREFERENCE_PROGRAM_H_
#define IPCLAB_LAB_READER_PREFERENCE_PROGRAM_H_

#include "lab/sync/sync.h"

namespace lab::testing {

// A readers-writer lock built from a mutex and a condvar. With `writer_preference` false it is
// reader-preferring: new readers enter whenever no writer holds the lock, so a steady stream of
// overlapping readers keeps a writer out forever (the planted bug).
class HandRolledRwLock {
 public:
  explicit HandRolledRwLock(bool writer_preference) : writer_preference_(writer_preference) {}
  void lock_shared() {
    lab::MutexLock l(m_);
    while (writing_ || (writer_preference_ && waiting_writers_ > 0)) cv_.wait(m_);
    ++readers_;
  }
  void unlock_shared() {
    lab::MutexLock l(m_);
    if (--readers_ == 0) cv_.notify_all();
  }
  void lock() {
    lab::MutexLock l(m_);
    ++waiting_writers_;
    while (writing_ || readers_ > 0) cv_.wait(m_);
    --waiting_writers_;
    writing_ = true;
  }
  void unlock() {
    lab::MutexLock l(m_);
    writing_ = false;
    cv_.notify_all();
  }

 private:
  const bool writer_preference_;
  lab::Mutex m_{"rw.mutex"};
  lab::CondVar cv_{"rw.cv"};
  int readers_ LAB_GUARDED_BY(m_) = 0;
  int waiting_writers_ LAB_GUARDED_BY(m_) = 0;
  bool writing_ LAB_GUARDED_BY(m_) = false;
};

inline void ReadersAndAWriter(bool writer_preference) {
  HandRolledRwLock rw(writer_preference);
  lab::Atomic<bool> written{false};
  auto reader = [&] {
    // Readers keep reading until the writer has written (a cache refreshed by one writer).
    while (!written.load()) {
      rw.lock_shared();
      lab::yield_point();
      lab::yield_point();
      lab::yield_point();
      rw.unlock_shared();
      lab::progress();
    }
  };
  lab::Thread r1(reader), r2(reader), r3(reader);
  lab::Thread w([&] {
    rw.lock();
    written.store(true);
    rw.unlock();
    lab::progress();
  });
  r1.join();
  r2.join();
  r3.join();
  w.join();
}

}  // namespace lab::testing

#endif  // IPCLAB_LAB_READER_PREFERENCE_PROGRAM_H_
