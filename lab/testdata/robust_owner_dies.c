// Planted bug: worker processes update a two-field record under a robust, process-shared mutex
// (invariant: a == b); a worker may die (SIGKILL) between the two updates while holding the
// mutex. The buggy code treats EOWNERDEAD like a normal lock and goes on with the torn record.
// IPCLAB_FIXED: on EOWNERDEAD the new owner repairs the record and marks the mutex consistent.
// Needs the kill fault: `ipclab explore --faults kill`.
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct Shared {
  pthread_mutex_t m;
  int a, b;
};

static void Lock(struct Shared* s) {
  int rc = pthread_mutex_lock(&s->m);
#ifdef IPCLAB_FIXED
  if (rc == EOWNERDEAD) {
    s->b = s->a;  // the dead owner's update is completed (a was bumped, b was not yet)
    pthread_mutex_consistent(&s->m);
    rc = 0;
  }
#else
  if (rc == EOWNERDEAD) rc = 0;  // "we have the lock, fine"
#endif
  assert(rc == 0);
}

static void Work(struct Shared* s) {
  for (int i = 0; i < 2; ++i) {
    Lock(s);
    ++s->a;
    usleep(10);  // a scheduling point inside the critical section
    ++s->b;
    pthread_mutex_unlock(&s->m);
  }
}

int main(void) {
  struct Shared* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert(s != MAP_FAILED);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->m, &attr);
  s->a = s->b = 0;

  pid_t workers[2];
  for (int i = 0; i < 2; ++i) {
    workers[i] = fork();
    assert(workers[i] >= 0);
    if (workers[i] == 0) {
      Work(s);
      _exit(0);
    }
  }
  for (int i = 0; i < 2; ++i) waitpid(workers[i], NULL, 0);
  Lock(s);
  printf("a %d b %d\n", s->a, s->b);
  assert(s->a == s->b);
  pthread_mutex_unlock(&s->m);
  return 0;
}
