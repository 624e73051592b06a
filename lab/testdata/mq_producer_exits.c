// Planted bug: the producer child sends one message fewer than the consumer expects (its loop
// starts at 1) and exits; the consumer waits on the empty POSIX message queue for ever (nobody
// else has it open for sending).
// IPCLAB_FIXED: the producer sends all of them.
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMessages = 3 };

int main(void) {
  char name[64];
  snprintf(name, sizeof name, "/ipclab-testdata-mq-%d", (int)getpid());
  struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
  mqd_t out = mq_open(name, O_WRONLY | O_CREAT | O_EXCL, 0600, &attr);
  assert(out != (mqd_t)-1);
  mqd_t in = mq_open(name, O_RDONLY);
  assert(in != (mqd_t)-1);
  mq_unlink(name);  // the descriptors keep it: nothing to leak
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    mq_close(in);
#ifdef IPCLAB_FIXED
    for (int i = 0; i < kMessages; ++i) {
#else
    for (int i = 1; i < kMessages; ++i) {
#endif
      int rc = mq_send(out, (const char*)&i, sizeof i, 0);
      assert(rc == 0);
    }
    _exit(0);
  }
  mq_close(out);
  int sum = 0;
  for (int k = 0; k < kMessages; ++k) {
    int value = 0;
    ssize_t n = mq_receive(in, (char*)&value, 16, NULL);
    assert(n == sizeof value);
    sum += value;
  }
  int status = 0;
  waitpid(child, &status, 0);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("sum %d\n", sum);
  return 0;
}
