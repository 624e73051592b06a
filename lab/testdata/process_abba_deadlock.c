// Planted bug: two processes take the same two process-shared mutexes, in a POSIX shared memory
// segment, in opposite orders (ABBA deadlock across processes).
// IPCLAB_FIXED selects the correct twin (both take a, then b).
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared_segment.h"

struct Shared {
  pthread_mutex_t a, b;
  int total;
};

static void Take(pthread_mutex_t* first, pthread_mutex_t* second, int* total) {
  pthread_mutex_lock(first);
  pthread_mutex_lock(second);
  ++*total;
  pthread_mutex_unlock(second);
  pthread_mutex_unlock(first);
}

int main(void) {
  struct Shared* s = MapSharedSegment("abba", sizeof(struct Shared));
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&s->a, &attr);
  pthread_mutex_init(&s->b, &attr);
  s->total = 0;

  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    Take(&s->a, &s->b, &s->total);
    _exit(0);
  }
#ifdef IPCLAB_FIXED
  Take(&s->a, &s->b, &s->total);
#else
  Take(&s->b, &s->a, &s->total);
#endif
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("total %d\n", s->total);
  return s->total == 2 ? 0 : 1;
}
