// lab/sync/sync.h: the lab's sync facade — write concurrent code once against these types; it runs
// on the real primitives in production and under the lab's controlled scheduler in lab::Explore.
//
// API at a glance (namespace lab; every operation takes a defaulted std::source_location):
//   Thread t([&]{ ... });  t.join();            std::thread / controlled thread (auto-joins)
//   Mutex m{"name"};  m.lock(); m.try_lock(); m.try_lock_for(10ms); m.unlock();
//   MutexLock lock(m);                          RAII, clang thread-safety annotated (LAB_GUARDED_BY)
//   CondVar cv;  cv.wait(m); cv.wait(m, pred); cv.wait_for(m, 5ms[, pred]); notify_one/notify_all
//                (also accept a MutexLock&)
//   Semaphore s(initial);  s.acquire(); s.try_acquire(); s.try_acquire_for(d); s.release(n = 1);
//   RwLock rw;  lock/unlock, lock_shared/unlock_shared, try_lock[_shared][_for];
//               ReaderLock, WriterLock (RAII)
//   Atomic<T> a{v};  load/store/exchange/fetch_add/sub/and/or/xor/compare_exchange_{strong,weak}
//               with std::memory_order (explored sequentially consistently; orders feed the race
//               detector and the real std::atomic)
//   Shared<T> x{v};  x.read(); x.write(v); x.update(f);   plain data, every access race-checked
//   yield_point();  sleep_for(d);  now();  random(n);  progress();  in_exploration();
//   LAB_ASSERT(cond);  LAB_ASSERT_MSG(cond, "message");
// Under exploration (lab/explore.h) every one of these is a scheduling point; blocking never blocks
// the OS thread; time is virtual; lab::random values are part of the replayable schedule.
#pragma once

#include "lab/sync/annotations.h"
#include "lab/sync/atomic.h"
#include "lab/sync/condvar.h"
#include "lab/sync/mutex.h"
#include "lab/sync/ops.h"
#include "lab/sync/rwlock.h"
#include "lab/sync/semaphore.h"
#include "lab/sync/shared.h"
#include "lab/sync/thread.h"
