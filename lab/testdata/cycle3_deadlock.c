/* Planted bug: three philosophers each take their left fork, then their right one (a 3-cycle).
 * IPCLAB_FIXED: the last one takes the lower-numbered fork first (a global order). */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t fork_[3] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                   PTHREAD_MUTEX_INITIALIZER};
static int meals;

static void* Philosopher(void* arg) {
  int i = (int)(long)arg;
  int first = i, second = (i + 1) % 3;
#ifdef IPCLAB_FIXED
  if (first > second) { int t = first; first = second; second = t; }
#endif
  pthread_mutex_lock(&fork_[first]);
  pthread_mutex_lock(&fork_[second]);
  ++meals;
  pthread_mutex_unlock(&fork_[second]);
  pthread_mutex_unlock(&fork_[first]);
  return NULL;
}

int main(void) {
  pthread_t t[3];
  for (long i = 0; i < 3; ++i) pthread_create(&t[i], NULL, Philosopher, (void*)i);
  for (int i = 0; i < 3; ++i) pthread_join(t[i], NULL);
  printf("meals %d\n", meals);
  return meals == 3 ? 0 : 1;
}
