/* tools/ipclab_access_rt.c: the runtime that `tools/ipclab-cc` / `tools/ipclab-c++` link into a
 * program. The compiler wrapper instruments the user's own files with clang's
 * -fsanitize-coverage=trace-loads,trace-stores and rewrites the callbacks in front of atomic
 * loads/stores (and adds them before atomic read-modify-writes) to __ipclab_atomic_*; this file
 * defines all of them and forwards each access to `__ipclab_access` in the preloaded
 * libipclab_interpose.so. Without the library (a normal run) every callback is one predictable
 * branch on a null pointer.
 *
 * Compiled without instrumentation (the wrapper compiles it with plain flags). */
#include <dlfcn.h>
#include <stdint.h>

typedef void (*AccessHook)(void* addr, unsigned size, unsigned flags, void* pc);

/* flags: bit 0 write, bit 1 atomic, bits 4..7 the C11 memory order of an atomic access
 * (0 relaxed, 1 acquire, 2 release, 3 acq_rel, 4 seq_cst); an atomic read-modify-write sets both
 * bit 0 and bit 2. Shared with lab/interpose/access.cc. */
enum { kWrite = 1, kAtomic = 2, kReadModifyWrite = 4 };

static AccessHook hook;

/* Runs after the preloaded library's initialisation (preloaded objects are initialised first). */
__attribute__((constructor)) static void IpclabAccessInit(void) {
  AccessHook h = (AccessHook)dlsym(RTLD_DEFAULT, "__ipclab_access");
  void (*announce)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__ipclab_access_points_present");
  if (announce != 0) announce();
  __atomic_store_n(&hook, h, __ATOMIC_RELEASE);
}

#define IPCLAB_HOOK(name, size, flags)                                                   \
  void name(void* addr) {                                                                \
    AccessHook h = __atomic_load_n(&hook, __ATOMIC_RELAXED);                             \
    if (h != 0) h(addr, size, flags, __builtin_return_address(0));                       \
  }

IPCLAB_HOOK(__sanitizer_cov_load1, 1, 0)
IPCLAB_HOOK(__sanitizer_cov_load2, 2, 0)
IPCLAB_HOOK(__sanitizer_cov_load4, 4, 0)
IPCLAB_HOOK(__sanitizer_cov_load8, 8, 0)
IPCLAB_HOOK(__sanitizer_cov_load16, 16, 0)
IPCLAB_HOOK(__sanitizer_cov_store1, 1, kWrite)
IPCLAB_HOOK(__sanitizer_cov_store2, 2, kWrite)
IPCLAB_HOOK(__sanitizer_cov_store4, 4, kWrite)
IPCLAB_HOOK(__sanitizer_cov_store8, 8, kWrite)
IPCLAB_HOOK(__sanitizer_cov_store16, 16, kWrite)

void __ipclab_atomic_load(void* addr, int32_t order) {
  AccessHook h = __atomic_load_n(&hook, __ATOMIC_RELAXED);
  if (h != 0) h(addr, 0, kAtomic | ((unsigned)order << 4), __builtin_return_address(0));
}

void __ipclab_atomic_store(void* addr, int32_t order) {
  AccessHook h = __atomic_load_n(&hook, __ATOMIC_RELAXED);
  if (h != 0) h(addr, 0, kWrite | kAtomic | ((unsigned)order << 4), __builtin_return_address(0));
}

void __ipclab_atomic_rmw(void* addr, int32_t order) {
  AccessHook h = __atomic_load_n(&hook, __ATOMIC_RELAXED);
  if (h != 0) {
    h(addr, 0, kWrite | kAtomic | kReadModifyWrite | ((unsigned)order << 4),
      __builtin_return_address(0));
  }
}

/* A marker `ipclab explore` and tests can look for in the symbol table. */
const char __ipclab_access_points_version[] = "ipclab-access-points-1";
