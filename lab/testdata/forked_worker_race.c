/* Planted bug: a parent fills a table, forks a worker process, and the worker splits its job over
 * two threads that both bump the worker's private `done` count without a lock (a plain `done++`).
 * Built with tools/ipclab-cc: the access points run under the one scheduler of the process tree,
 * and the worker's race detector (per process, started from its parent's copy at fork) names both
 * threads as p1.t1 / p1.t2 with their lines. The parent's writes before fork and its own writes
 * after it are not races: fork orders the first, the second touch the parent's copy only.
 * IPCLAB_FIXED: the count is under a mutex. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kItems = 4 };

static int table[kItems];
static int done;  // private to each process after fork
#ifdef IPCLAB_FIXED
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static void* Half(void* arg) {
  int first = *(int*)arg;
  for (int i = first; i < first + kItems / 2; ++i) {
    table[i] *= 2;  // disjoint halves: no race
#ifdef IPCLAB_FIXED
    pthread_mutex_lock(&lock);
#endif
    done++;
#ifdef IPCLAB_FIXED
    pthread_mutex_unlock(&lock);
#endif
  }
  return NULL;
}

int main(void) {
  for (int i = 0; i < kItems; ++i) table[i] = i;  // before fork: ordered before the worker
  pid_t pid = fork();
  assert(pid >= 0);
  if (pid == 0) {
    pthread_t a, b;
    int first_a = 0, first_b = kItems / 2;
    pthread_create(&a, NULL, Half, &first_a);
    pthread_create(&b, NULL, Half, &first_b);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    _exit(done == kItems ? 0 : 1);
  }
  done = -1;  // the parent's own copy
  int status = 0;
  waitpid(pid, &status, 0);
  printf("worker exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
