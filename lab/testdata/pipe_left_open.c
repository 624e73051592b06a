// Planted bug: the child reads the pipe until end of file but never closes its own copy of the
// write end, so end of file never comes; the parent waits for the child: both wait for ever.
// IPCLAB_FIXED: the child closes the write end it does not use.
#define _GNU_SOURCE
#include <assert.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int p[2];
  int rc = pipe(p);
  assert(rc == 0);
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
#ifdef IPCLAB_FIXED
    close(p[1]);
#endif
    char buf[64];
    size_t total = 0;
    for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) total += (size_t)n;
    _exit(total == 5 ? 0 : 1);
  }
  close(p[0]);
  ssize_t n = write(p[1], "hello", 5);
  assert(n == 5);
  close(p[1]);
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("child read it all\n");
  return 0;
}
