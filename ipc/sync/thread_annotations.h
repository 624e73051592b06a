// ipc/sync/thread_annotations.h: clang thread-safety annotations (abseil's, prefixed IPC_).
// Checked with -Wthread-safety (on for all of ipclab); empty for other compilers.
#pragma once

#if defined(__clang__)
#define IPC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define IPC_THREAD_ANNOTATION(x)
#endif

#define IPC_CAPABILITY(x) IPC_THREAD_ANNOTATION(capability(x))
#define IPC_SCOPED_CAPABILITY IPC_THREAD_ANNOTATION(scoped_lockable)
#define IPC_GUARDED_BY(x) IPC_THREAD_ANNOTATION(guarded_by(x))
#define IPC_PT_GUARDED_BY(x) IPC_THREAD_ANNOTATION(pt_guarded_by(x))
#define IPC_REQUIRES(...) IPC_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define IPC_EXCLUDES(...) IPC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define IPC_ACQUIRE(...) IPC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define IPC_RELEASE(...) IPC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define IPC_TRY_ACQUIRE(...) IPC_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define IPC_NO_THREAD_SAFETY_ANALYSIS IPC_THREAD_ANNOTATION(no_thread_safety_analysis)
