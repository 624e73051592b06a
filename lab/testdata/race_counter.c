/* Planted bug: two threads increment a shared counter with no synchronization at all (a plain
 * `counter++`: load, add, store). Built with tools/ipclab-cc, every load and store is visible to
 * `ipclab explore`: its happens-before race detector names both accesses (file:line) and both
 * threads on the first schedule where the two threads' accesses are unordered, before the lost
 * update can even show. IPCLAB_FIXED: the increment is under a mutex. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

enum { kIncrements = 3 };

#ifdef IPCLAB_FIXED
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif
static int counter;

static void* Worker(void* arg) {
  (void)arg;
  for (int i = 0; i < kIncrements; ++i) {
#ifdef IPCLAB_FIXED
    pthread_mutex_lock(&lock);
#endif
    counter++;
#ifdef IPCLAB_FIXED
    pthread_mutex_unlock(&lock);
#endif
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, Worker, NULL);
  pthread_create(&b, NULL, Worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter %d\n", counter);
  assert(counter == 2 * kIncrements);
  return 0;
}
