/* Planted bug: a parent and its forked child both increment a counter in a POSIX shared memory
 * segment (shm_open + mmap) without a lock: a data race between two processes, lost updates.
 * Built with tools/ipclab-cc: the tree's race detector keys the counter by segment and offset
 * and names both processes, both lines and /dev/shm/ipclab-testdata-shmrace-PID+0x28.
 * IPCLAB_FIXED: the increments are under a process-shared mutex in the segment. */
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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
  char name[64];
  snprintf(name, sizeof name, "/ipclab-testdata-shmrace-%d", (int)getpid());
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  assert(fd >= 0);
  int rc = ftruncate(fd, sizeof(struct Shared));
  assert(rc == 0);
  struct Shared* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert(s != MAP_FAILED);
  close(fd);
  shm_unlink(name);  // the mapping keeps it; nothing to leak
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
