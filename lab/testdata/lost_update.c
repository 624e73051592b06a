/* Planted bug: two threads increment a counter with a read, a yield point, and a write, without a
 * lock; the program asserts its final count. Without memory-access points only the scheduling
 * points between the read and the write (here a sched_yield, as a "log" call would be) expose it.
 * IPCLAB_FIXED: the read-modify-write is under a mutex. */
#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#ifdef IPCLAB_FIXED
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif
static volatile int counter;

static void* Worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 2; ++i) {
#ifdef IPCLAB_FIXED
    pthread_mutex_lock(&lock);
#endif
    int seen = counter;
    sched_yield();
    counter = seen + 1;
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
  assert(counter == 4);
  return 0;
}
