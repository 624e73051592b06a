// Planted bug: two processes take a lock file by "if it does not exist, create it" (access, then
// open with O_CREAT but without O_EXCL): both can see it missing and both believe they won.
// IPCLAB_FIXED: open(O_CREAT | O_EXCL) decides atomically.
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int TryLock(const char* path) {
#ifdef IPCLAB_FIXED
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return 0;
#else
  if (access(path, F_OK) == 0) return 0;  // somebody holds it
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  if (fd < 0) return 0;
#endif
  close(fd);
  return 1;
}

int main(void) {
  char dir[] = "/tmp/ipclab-lockfile-XXXXXX";
  if (mkdtemp(dir) == NULL) return 2;
  char path[64];
  snprintf(path, sizeof path, "%s/lock", dir);
  int* winners = mmap(NULL, sizeof *winners, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert(winners != MAP_FAILED);
  *winners = 0;
  pid_t kids[2];
  for (int i = 0; i < 2; ++i) {
    kids[i] = fork();
    assert(kids[i] >= 0);
    if (kids[i] == 0) {
      if (TryLock(path)) __atomic_add_fetch(winners, 1, __ATOMIC_SEQ_CST);
      _exit(0);
    }
  }
  for (int i = 0; i < 2; ++i) waitpid(kids[i], NULL, 0);
  unlink(path);
  rmdir(dir);
  printf("%d winner(s)\n", *winners);
  assert(*winners == 1);
  return 0;
}
