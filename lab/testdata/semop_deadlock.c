// Planted bug: two processes take two System V semaphore sets (each a one-slot lock, SEM_UNDO) in
// opposite orders: each waits in semop for the set the other holds.
// IPCLAB_FIXED: both take a, then b.
#define _GNU_SOURCE
#include <assert.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

static void Op(int set, short delta) {
  struct sembuf op = {.sem_num = 0, .sem_op = delta, .sem_flg = SEM_UNDO};
  int rc = semop(set, &op, 1);
  assert(rc == 0);
}

static void TakeBoth(int first, int second) {
  Op(first, -1);
  Op(second, -1);
  Op(second, 1);
  Op(first, 1);
}

int main(void) {
  int a = semget(IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL | 0600);
  int b = semget(IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL | 0600);
  assert(a >= 0 && b >= 0);
  int rc = semctl(a, 0, SETVAL, 1);
  assert(rc == 0);
  rc = semctl(b, 0, SETVAL, 1);
  assert(rc == 0);
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    TakeBoth(a, b);
    _exit(0);
  }
#ifdef IPCLAB_FIXED
  TakeBoth(a, b);
#else
  TakeBoth(b, a);
#endif
  int status = 0;
  waitpid(child, &status, 0);
  semctl(a, 0, IPC_RMID);
  semctl(b, 0, IPC_RMID);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
