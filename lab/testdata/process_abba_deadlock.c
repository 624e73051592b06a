// Planted bug: two processes take the same two process-shared mutexes, in a POSIX shared memory
// segment, in opposite orders (ABBA deadlock across processes).
// IPCLAB_FIXED selects the correct twin (both take a, then b).
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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
  char name[64];
  snprintf(name, sizeof name, "/ipclab-testdata-abba-%d", (int)getpid());
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
