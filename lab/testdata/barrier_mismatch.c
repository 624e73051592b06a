/* Planted bug: a two-phase computation whose workers meet at a barrier between the phases; the
 * barrier is initialised for the workers plus the main thread, but the main thread only joins.
 * The last worker waits forever for an arrival that never comes. `ipclab explore` reports the
 * hang at once (no thread can run) as a deadlock naming the barrier and how many arrived.
 * IPCLAB_FIXED: the barrier counts only the workers. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

enum { kWorkers = 3 };

static pthread_barrier_t phase;
static int partial[kWorkers];
static int total[kWorkers];

static void* Worker(void* arg) {
  int id = (int)(long)arg;
  partial[id] = id + 1;  // phase 1
  pthread_barrier_wait(&phase);
  int sum = 0;  // phase 2 reads everyone's phase-1 result
  for (int i = 0; i < kWorkers; ++i) sum += partial[i];
  total[id] = sum;
  return NULL;
}

int main(void) {
#ifdef IPCLAB_FIXED
  pthread_barrier_init(&phase, NULL, kWorkers);
#else
  pthread_barrier_init(&phase, NULL, kWorkers + 1);  // counts main, which never waits
#endif
  pthread_t t[kWorkers];
  for (long i = 0; i < kWorkers; ++i) pthread_create(&t[i], NULL, Worker, (void*)i);
  for (int i = 0; i < kWorkers; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < kWorkers; ++i) assert(total[i] == 6);
  pthread_barrier_destroy(&phase);
  printf("total %d\n", total[0]);
  return 0;
}
