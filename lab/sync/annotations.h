// lab/sync/annotations.h: clang thread-safety attributes for the facade's lockable types.
#pragma once

#if defined(__clang__)
#define LAB_TSA(x) __attribute__((x))
#else
#define LAB_TSA(x)
#endif

#define LAB_CAPABILITY(x) LAB_TSA(capability(x))
#define LAB_SCOPED_CAPABILITY LAB_TSA(scoped_lockable)
#define LAB_GUARDED_BY(x) LAB_TSA(guarded_by(x))
#define LAB_PT_GUARDED_BY(x) LAB_TSA(pt_guarded_by(x))
#define LAB_ACQUIRE(...) LAB_TSA(acquire_capability(__VA_ARGS__))
#define LAB_ACQUIRE_SHARED(...) LAB_TSA(acquire_shared_capability(__VA_ARGS__))
#define LAB_RELEASE(...) LAB_TSA(release_capability(__VA_ARGS__))
#define LAB_RELEASE_SHARED(...) LAB_TSA(release_shared_capability(__VA_ARGS__))
#define LAB_RELEASE_GENERIC(...) LAB_TSA(release_generic_capability(__VA_ARGS__))
#define LAB_TRY_ACQUIRE(...) LAB_TSA(try_acquire_capability(__VA_ARGS__))
#define LAB_TRY_ACQUIRE_SHARED(...) LAB_TSA(try_acquire_shared_capability(__VA_ARGS__))
#define LAB_REQUIRES(...) LAB_TSA(requires_capability(__VA_ARGS__))
#define LAB_EXCLUDES(...) LAB_TSA(locks_excluded(__VA_ARGS__))
#define LAB_NO_THREAD_SAFETY_ANALYSIS LAB_TSA(no_thread_safety_analysis)
