// Planted bug: the reader of a pipe treats any read() <= 0 as end of file; a signal (SIGUSR1,
// handler installed without SA_RESTART) arriving while it waits in read() makes read() fail with
// EINTR, and the reader stops early and loses the rest of the data.
// IPCLAB_FIXED: read() == -1 with errno EINTR is retried. Needs `ipclab explore --faults signal`.
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMessages = 4, kSize = 8 };

static volatile sig_atomic_t signals;
static void OnUsr1(int sig) { (void)sig; ++signals; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnUsr1;  // no SA_RESTART: a blocked read() fails with EINTR
  sigaction(SIGUSR1, &sa, NULL);
  int p[2];
  int rc = pipe(p);
  assert(rc == 0);
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    close(p[0]);
    char msg[kSize] = "message";
    for (int i = 0; i < kMessages; ++i) {
      ssize_t n = write(p[1], msg, sizeof msg);
      assert(n == (ssize_t)sizeof msg);
    }
    close(p[1]);
    _exit(0);
  }
  close(p[1]);
  size_t total = 0;
  char buf[64];
  for (;;) {
    ssize_t n = read(p[0], buf, sizeof buf);
#ifdef IPCLAB_FIXED
    if (n < 0 && errno == EINTR) continue;
#endif
    if (n <= 0) break;  // end of file (or so the buggy reader thinks)
    total += (size_t)n;
  }
  close(p[0]);
  waitpid(child, NULL, 0);
  printf("read %zu bytes, %d signal(s)\n", total, (int)signals);
  assert(total == kMessages * kSize);
  return 0;
}
