/* Planted bug: a pool of one slot guarded by a semaphore, but a worker that finds its job
 * cancelled returns without posting the slot back; the next worker waits forever.
 * IPCLAB_FIXED: the slot is posted back on every path. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

static sem_t slots;
static int done;

static void* Worker(void* arg) {
  int cancelled = (int)(long)arg;
  sem_wait(&slots);
  if (cancelled) {
#ifdef IPCLAB_FIXED
    sem_post(&slots);
#endif
    return NULL;
  }
  ++done;
  sem_post(&slots);
  return NULL;
}

int main(void) {
  pthread_t a, b;
  sem_init(&slots, 0, 1);
  pthread_create(&a, NULL, Worker, (void*)1L);
  pthread_create(&b, NULL, Worker, (void*)0L);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  sem_destroy(&slots);
  printf("done %d\n", done);
  return done == 1 ? 0 : 1;
}
