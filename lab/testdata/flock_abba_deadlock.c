// Planted bug: two processes take exclusive flock() locks on the same two lock files in opposite
// orders (ABBA deadlock across processes over file locks).
// IPCLAB_FIXED selects the correct twin (both lock a, then b).
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static void Path(char* out, size_t n, const char* dir, const char* file) { snprintf(out, n, "%s/%s", dir, file); }

// Locks `first`, then `second`, and releases both.
static void LockBoth(int first, int second) {
  int rc = flock(first, LOCK_EX);
  assert(rc == 0);
  rc = flock(second, LOCK_EX);
  assert(rc == 0);
  flock(second, LOCK_UN);
  flock(first, LOCK_UN);
}

int main(void) {
  char dir[] = "/tmp/ipclab-testdata-flock-XXXXXX";
  assert(mkdtemp(dir) != NULL);
  char a_path[64], b_path[64];
  Path(a_path, sizeof a_path, dir, "a.lock");
  Path(b_path, sizeof b_path, dir, "b.lock");
  int a = open(a_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  int b = open(b_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert(a >= 0 && b >= 0);
  int ready[2];
  int rc = pipe(ready);
  assert(rc == 0);
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    // Its own open file descriptions (flock locks belong to them, not to the process).
    close(a);
    close(b);
    a = open(a_path, O_RDWR | O_CLOEXEC);
    b = open(b_path, O_RDWR | O_CLOEXEC);
    assert(a >= 0 && b >= 0);
    ssize_t n = write(ready[1], "r", 1);
    assert(n == 1);
    LockBoth(a, b);
    _exit(0);
  }
  // Once the child has the files open, they need no names: nothing is left behind.
  char byte;
  ssize_t n = read(ready[0], &byte, 1);
  assert(n == 1);
  unlink(a_path);
  unlink(b_path);
  rmdir(dir);
#ifdef IPCLAB_FIXED
  LockBoth(a, b);
#else
  LockBoth(b, a);
#endif
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
