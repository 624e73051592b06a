// lab/sync/atomic.h: lab::Atomic<T>, a std::atomic<T> whose every operation is a scheduling point.
//
// Model: interleavings are sequentially consistent — each operation happens at once, in the order
// the scheduler picks; weak-memory reorderings (a relaxed load seeing a stale value) are NOT
// explored. The memory order still matters twice: the lab's race detector takes acquire/release
// edges from it (a relaxed store does not publish data to a later load), and the real std::atomic
// operation runs with that order, so TSan sees the program's real orders too.
// compare_exchange_weak never fails spuriously under exploration.
#pragma once

#include <atomic>
#include <source_location>
#include <type_traits>

#include "lab/rt/execution.h"

namespace lab {

template <class T>
class Atomic {
 public:
  Atomic() : a_(T{}) {}
  explicit Atomic(T v, const char* name = nullptr) : a_(v) { ref_.name = name; }
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order mo = std::memory_order_seq_cst,
         std::source_location loc = std::source_location::current()) const {
    Point(rt::Op::kLoad, Acquires(mo), false, loc);
    return a_.load(mo);
  }
  void store(T v, std::memory_order mo = std::memory_order_seq_cst,
             std::source_location loc = std::source_location::current()) {
    Point(rt::Op::kStore, false, Releases(mo), loc);
    a_.store(v, mo);
  }
  T exchange(T v, std::memory_order mo = std::memory_order_seq_cst,
             std::source_location loc = std::source_location::current()) {
    Point(rt::Op::kRmw, Acquires(mo), Releases(mo), loc);
    return a_.exchange(v, mo);
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order mo = std::memory_order_seq_cst,
                               std::source_location loc = std::source_location::current()) {
    Point(rt::Op::kCas, Acquires(mo), Releases(mo), loc);
    return a_.compare_exchange_strong(expected, desired, mo);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure,
                               std::source_location loc = std::source_location::current()) {
    Point(rt::Op::kCas, Acquires(success) || Acquires(failure), Releases(success), loc);
    return a_.compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order mo = std::memory_order_seq_cst,
                             std::source_location loc = std::source_location::current()) {
    if (rt::Execution::Current()) return compare_exchange_strong(expected, desired, mo, loc);
    return a_.compare_exchange_weak(expected, desired, mo);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure,
                             std::source_location loc = std::source_location::current()) {
    if (rt::Execution::Current()) {
      return compare_exchange_strong(expected, desired, success, failure, loc);
    }
    return a_.compare_exchange_weak(expected, desired, success, failure);
  }
  T fetch_add(T v, std::memory_order mo = std::memory_order_seq_cst,
              std::source_location loc = std::source_location::current())
    requires(std::is_integral_v<T> || std::is_pointer_v<T>)
  {
    Point(rt::Op::kRmw, Acquires(mo), Releases(mo), loc);
    return a_.fetch_add(v, mo);
  }
  T fetch_sub(T v, std::memory_order mo = std::memory_order_seq_cst,
              std::source_location loc = std::source_location::current())
    requires(std::is_integral_v<T> || std::is_pointer_v<T>)
  {
    Point(rt::Op::kRmw, Acquires(mo), Releases(mo), loc);
    return a_.fetch_sub(v, mo);
  }
  T fetch_and(T v, std::memory_order mo = std::memory_order_seq_cst,
              std::source_location loc = std::source_location::current())
    requires std::is_integral_v<T>
  {
    Point(rt::Op::kRmw, Acquires(mo), Releases(mo), loc);
    return a_.fetch_and(v, mo);
  }
  T fetch_or(T v, std::memory_order mo = std::memory_order_seq_cst,
             std::source_location loc = std::source_location::current())
    requires std::is_integral_v<T>
  {
    Point(rt::Op::kRmw, Acquires(mo), Releases(mo), loc);
    return a_.fetch_or(v, mo);
  }
  T fetch_xor(T v, std::memory_order mo = std::memory_order_seq_cst,
              std::source_location loc = std::source_location::current())
    requires std::is_integral_v<T>
  {
    Point(rt::Op::kRmw, Acquires(mo), Releases(mo), loc);
    return a_.fetch_xor(v, mo);
  }

 private:
  static bool Acquires(std::memory_order mo) {
    return mo == std::memory_order_acquire || mo == std::memory_order_consume ||
           mo == std::memory_order_acq_rel || mo == std::memory_order_seq_cst;
  }
  static bool Releases(std::memory_order mo) {
    return mo == std::memory_order_release || mo == std::memory_order_acq_rel ||
           mo == std::memory_order_seq_cst;
  }
  void Point(rt::Op op, bool acquire, bool release, std::source_location loc) const {
    if (auto* ex = rt::Execution::Current()) ex->AtomicPoint(ref_, this, op, acquire, release, loc);
  }

  std::atomic<T> a_;
  mutable rt::ObjRef ref_;
};

}  // namespace lab
