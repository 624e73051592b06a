/* Planted bug: a parent and its forked child both increment a counter in a POSIX shared memory
 * segment (shm_open + mmap) without a lock: a data race between two processes, lost updates.
 * Built with tools/ipclab-cc: the tree's race detector keys the counter by segment and offset
 * and names both processes, both lines and /dev/shm/ipclab-testdata-shmrace-PID+0x28.
 * IPCLAB_FIXED: the increments are under a process-shared mutex in the segment. */
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared_segment.h"

enum { kRounds = 2 };

struct Shared {
  pthread_mutex_t lock;  // 40 bytes: the counter is at +0x28
  int counter;
};

static void Bump(struct Shared* s) {
  for (int i = 0; i < kRounds; ++i) {
#ifdef IPCLAB_FIXED
    pthread_mutex_lock(&s->lock);
#endif
    s->counter = s->counter + 1;
#ifdef IPCLAB_FIXED
    pthread_mutex_unlock(&s->lock);
#endif
  }
}

int main(void) {
  struct Shared* s = MapSharedSegment("shmrace", sizeof(struct Shared));
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&s->lock, &attr);
  s->counter = 0;

  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    Bump(s);
    _exit(0);
  }
  Bump(s);
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("counter %d\n", s->counter);
  assert(s->counter == 2 * kRounds);
  return 0;
}
