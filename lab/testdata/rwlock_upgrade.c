/* Planted bug: a cache that looks an entry up under the read lock and, on a miss, "upgrades" to
 * the write lock while still holding the read lock. POSIX rwlocks have no upgrade: the write lock
 * waits for every reader to leave, including the thread itself (and two threads doing it wait for
 * each other). `ipclab explore` reports the deadlock with who holds the read lock and where.
 * IPCLAB_FIXED: release the read lock, take the write lock, and check again. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static int cached = -1;

static int Compute(void) { return 42; }

static int Lookup(void) {
  pthread_rwlock_rdlock(&cache_lock);
  int value = cached;
  if (value < 0) {
#ifdef IPCLAB_FIXED
    pthread_rwlock_unlock(&cache_lock);
    pthread_rwlock_wrlock(&cache_lock);
    if (cached < 0) cached = Compute();
    value = cached;
#else
    pthread_rwlock_wrlock(&cache_lock);  // upgrade while holding the read lock
    cached = Compute();
    value = cached;
    pthread_rwlock_unlock(&cache_lock);
#endif
  }
  pthread_rwlock_unlock(&cache_lock);
  return value;
}

static void* Client(void* arg) {
  (void)arg;
  assert(Lookup() == 42);
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, Client, NULL);
  pthread_create(&b, NULL, Client, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("cached %d\n", cached);
  return 0;
}
