/* Planted bug: a parent and its forked child share two process-shared rwlocks, an index and a
 * table, in a POSIX shared memory segment. The parent write-locks the index, then the table; the
 * child write-locks the table, then read-locks the index to look something up (opposite order):
 * a deadlock across processes on rwlocks, reported at once naming /dev/shm/...+0x38 and +0x0.
 * Built with tools/ipclab-cc, so the correct twin (both take the index first) also shows the
 * rwlocks ordering the two processes' updates of `entries` for the race detector.
 * IPCLAB_FIXED: the child takes the index before the table, as the parent does. */
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared_segment.h"

struct Shared {
  pthread_rwlock_t index;  // 56 bytes: the table lock is at +0x38
  pthread_rwlock_t table;
  int entries;
};

int main(void) {
  struct Shared* s = MapSharedSegment("rwdeadlock", sizeof(struct Shared));
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_rwlock_init(&s->index, &attr);
  pthread_rwlock_init(&s->table, &attr);
  s->entries = 0;

  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
#ifdef IPCLAB_FIXED
    pthread_rwlock_rdlock(&s->index);
    pthread_rwlock_wrlock(&s->table);
#else
    pthread_rwlock_wrlock(&s->table);
    pthread_rwlock_rdlock(&s->index);  // the opposite order of the parent's
#endif
    s->entries = s->entries + 1;
    pthread_rwlock_unlock(&s->index);
    pthread_rwlock_unlock(&s->table);
    _exit(0);
  }
  pthread_rwlock_wrlock(&s->index);
  pthread_rwlock_wrlock(&s->table);
  s->entries = s->entries + 1;
  pthread_rwlock_unlock(&s->table);
  pthread_rwlock_unlock(&s->index);
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("entries %d\n", s->entries);
  assert(s->entries == 2);
  return 0;
}
