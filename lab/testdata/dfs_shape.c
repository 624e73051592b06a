/* A program of known shape for counting schedules (not a bug: it always exits 0).
 *   dfs_shape threads N M: the main thread creates one thread; main then makes N-2 sched_yield
 *     calls and joins, the thread makes M-1 sched_yield calls and ends.
 *   dfs_shape processes N M: the same with fork, waitpid and _exit.
 * From the first choice point on (just after pthread_create or fork) the main thread has N atomic
 * steps between scheduling points (the rest of create/fork, one per yield, and the join/waitpid
 * that blocks) and the other M (one per yield, and its end), both always enabled, so the schedules
 * are the C(N+M, N) interleavings of the two step sequences (see lab/interpose/dfs_test.sh; with
 * TSan or ASan, thread creation is not a scheduling point: main then has N-1 steps). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int worker_yields;

static void Yields(int n) {
  for (int i = 0; i < n; ++i) sched_yield();
}

static void* Worker(void* arg) {
  (void)arg;
  Yields(worker_yields);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4 || (strcmp(argv[1], "threads") != 0 && strcmp(argv[1], "processes") != 0)) {
    fprintf(stderr, "usage: dfs_shape threads|processes N M (N >= 2, M >= 1)\n");
    return 2;
  }
  const int n = atoi(argv[2]), m = atoi(argv[3]);
  if (n < 2 || m < 1) {
    fprintf(stderr, "dfs_shape: N >= 2 and M >= 1\n");
    return 2;
  }
  worker_yields = m - 1;
  if (strcmp(argv[1], "threads") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, Worker, NULL) != 0) return 2;
    Yields(n - 2);
    pthread_join(t, NULL);
    return 0;
  }
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    Yields(worker_yields);
    _exit(0);
  }
  Yields(n - 2);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  return 0;
}
