// Planted bug: a worker process creates a POSIX shared memory segment for its result and the
// parent removes it after reading the result -- but only when the worker exited normally. A
// worker that dies (SIGKILL) after creating the segment leaves it behind (`ipc-leak`).
// IPCLAB_FIXED: the parent removes the segment whatever became of the worker. Needs
// `ipclab explore --faults kill`.
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t worker = fork();
  assert(worker >= 0);
  char name[64];
  snprintf(name, sizeof name, "/ipclab-testdata-leak-%d", (int)(worker == 0 ? getpid() : worker));
  if (worker == 0) {
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert(fd >= 0);
    int rc = ftruncate(fd, sizeof(int));
    assert(rc == 0);
    int* result = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert(result != MAP_FAILED);
    close(fd);
    sched_yield();  // computing...
    *result = 42;
    _exit(0);
  }
  int status = 0;
  waitpid(worker, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    int fd = shm_open(name, O_RDONLY, 0);
    assert(fd >= 0);
    int* result = mmap(NULL, sizeof(int), PROT_READ, MAP_SHARED, fd, 0);
    assert(result != MAP_FAILED);
    close(fd);
    printf("result %d\n", *result);
    shm_unlink(name);
  } else {
    printf("the worker died; no result\n");
#ifdef IPCLAB_FIXED
    shm_unlink(name);  // it may or may not have created it
#endif
  }
  return 0;
}
