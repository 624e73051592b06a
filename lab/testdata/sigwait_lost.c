// Planted bug: the parent blocks SIGUSR1 for sigwait only after forking the child that sends it;
// when the signal comes first, the handler takes it and the sigwait waits for ever (a lost
// signal).
// IPCLAB_FIXED: SIGUSR1 is blocked before the fork.
#define _GNU_SOURCE
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled = 0;
static void OnUsr1(int signo) {
  (void)signo;
  handled = 1;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = OnUsr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
#ifdef IPCLAB_FIXED
  sigprocmask(SIG_BLOCK, &usr1, NULL);
#endif
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    int rc = kill(getppid(), SIGUSR1);
    assert(rc == 0);
    _exit(0);
  }
#ifndef IPCLAB_FIXED
  sigprocmask(SIG_BLOCK, &usr1, NULL);
#endif
  int signo = 0;
  int rc = sigwait(&usr1, &signo);
  assert(rc == 0 && signo == SIGUSR1);
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
