/* Planted bug: a consumer waits at most 2 s for a producer, but computes the deadline from
 * CLOCK_MONOTONIC while pthread_cond_timedwait measures it against CLOCK_REALTIME (the default
 * clock of a condition variable): the deadline lies decades in the past, the wait times out at
 * once, and the consumer gives up although the producer needs only 1 ms. Under `ipclab explore`
 * clocks, sleeps and timeouts run on virtual time, so this is found in the first schedule, and
 * the twin's 2 s wait costs no real time. IPCLAB_FIXED: the deadline comes from CLOCK_REALTIME. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int ready;

static void* Producer(void* arg) {
  (void)arg;
  usleep(1000);  // 1 ms of work
  pthread_mutex_lock(&lock);
  ready = 1;
  pthread_cond_signal(&changed);
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(void) {
  pthread_t p;
  pthread_create(&p, NULL, Producer, NULL);
  struct timespec deadline;
#ifdef IPCLAB_FIXED
  clock_gettime(CLOCK_REALTIME, &deadline);
#else
  clock_gettime(CLOCK_MONOTONIC, &deadline);
#endif
  deadline.tv_sec += 2;
  pthread_mutex_lock(&lock);
  int rc = 0;
  while (!ready && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&changed, &lock, &deadline);
  int got = ready;
  pthread_mutex_unlock(&lock);
  pthread_join(p, NULL);
  assert(got && "the producer did not answer within 2 s");
  printf("ready\n");
  return 0;
}
