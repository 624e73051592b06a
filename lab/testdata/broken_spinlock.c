/* Planted bug: a hand-rolled spinlock that tests, then sets, with plain loads and stores
 * (`while (locked) {} locked = 1;`): two threads can both see it free and both enter. Built with
 * tools/ipclab-cc: the race detector reports the unsynchronized accesses to `locked` (and the
 * memory-access points let the scheduler interleave the test and the set).
 * IPCLAB_FIXED: the lock is an atomic exchange with acquire order and the unlock a release
 * store, which the race detector takes as synchronization (ipclab-cc passes atomics with their
 * memory order), so the counter under it is ordered. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

#ifdef IPCLAB_FIXED
#include <stdatomic.h>
static atomic_int locked;
static void Lock(void) {
  while (atomic_exchange_explicit(&locked, 1, memory_order_acquire) != 0) {
  }
}
static void Unlock(void) { atomic_store_explicit(&locked, 0, memory_order_release); }
#else
static volatile int locked;
static void Lock(void) {
  while (locked) {
  }
  locked = 1;
}
static void Unlock(void) { locked = 0; }
#endif

static int counter;

static void* Worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 2; ++i) {
    Lock();
    counter = counter + 1;
    Unlock();
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
