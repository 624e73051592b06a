// Planted bug: the consumer child treats any msgrcv() failure as the end of the stream; the
// parent's "status request" signal (SIGUSR1, caught by a handler) interrupts a msgrcv() blocked on
// the empty System V queue with EINTR, and the consumer stops early, losing the messages.
// IPCLAB_FIXED: the consumer retries after EINTR.
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMessages = 3 };

struct Message {
  long type;
  int value;
};

static volatile sig_atomic_t status_requests = 0;
static void OnStatusRequest(int signo) {
  (void)signo;
  ++status_requests;
}

static int Consume(int queue) {
  int received = 0;
  while (received < kMessages) {
    struct Message m;
    ssize_t n = msgrcv(queue, &m, sizeof m.value, 0, 0);
#ifdef IPCLAB_FIXED
    if (n < 0 && errno == EINTR) continue;
#endif
    if (n < 0) break;  // "the queue is gone": but EINTR is not that
    ++received;
  }
  return received;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = OnStatusRequest;
  sigaction(SIGUSR1, &sa, NULL);  // inherited by the child
  int queue = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600);
  assert(queue >= 0);
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) _exit(Consume(queue) == kMessages ? 0 : 1);
  int rc = kill(child, SIGUSR1);  // how are you doing?
  assert(rc == 0);
  for (int i = 0; i < kMessages; ++i) {
    struct Message m = {1, i};
    rc = msgsnd(queue, &m, sizeof m.value, 0);
    assert(rc == 0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  msgctl(queue, IPC_RMID, NULL);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
