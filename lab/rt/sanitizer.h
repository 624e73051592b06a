// lab/rt/sanitizer.h: which sanitizer this translation unit is built with, and the TSan hooks the
// facade and runtime use. All hooks compile to nothing in other builds.
#pragma once

#if defined(IPCLAB_TSAN)
#define LAB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LAB_TSAN 1
#endif
#endif
#if defined(IPCLAB_ASAN)
#define LAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LAB_ASAN 1
#endif
#endif
#if !defined(LAB_TSAN) && defined(__SANITIZE_THREAD__)
#define LAB_TSAN 1
#endif
#if !defined(LAB_ASAN) && defined(__SANITIZE_ADDRESS__)
#define LAB_ASAN 1
#endif

#if defined(LAB_TSAN)
#include <sanitizer/tsan_interface.h>
extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif

namespace lab::rt {

// Modeled synchronization, told to TSan: a release on an object happens-before a later acquire on
// it. Fiber switches carry no ordering, so without these TSan would flag data a lab::Mutex guards.
inline void TsanRelease([[maybe_unused]] const void* addr) {
#if defined(LAB_TSAN)
  __tsan_release(const_cast<void*>(addr));
#endif
}
inline void TsanAcquire([[maybe_unused]] const void* addr) {
#if defined(LAB_TSAN)
  __tsan_acquire(const_cast<void*>(addr));
#endif
}

// The runtime's own bookkeeping is shared by all fibers without TSan-visible ordering (that is the
// point: steps are unordered for TSan). Its memory accesses are hidden from TSan while inside.
class RuntimeSection {
 public:
  RuntimeSection() {
#if defined(LAB_TSAN)
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
  }
  ~RuntimeSection() {
#if defined(LAB_TSAN)
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
  }
  RuntimeSection(const RuntimeSection&) = delete;
  RuntimeSection& operator=(const RuntimeSection&) = delete;

  // A finishing fiber leaves for good from inside one section, whose destructor will never run:
  // end it by hand so TSan does not see a fiber destroyed with ignores enabled.
  static void EndForExit() {
#if defined(LAB_TSAN)
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
  }
};

}  // namespace lab::rt
