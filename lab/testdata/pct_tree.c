/* Two processes (a parent and its forked child) share a page; each makes K scheduling points
 * (sched_yield) and logs which process made each step.
 *   pct_tree alternations: asserts that the log alternates between the two processes at most
 *     twice. PCT with depth 2 never breaks this when its priorities are global to the tree (the
 *     higher-priority process runs until its one change point or its end, then the other runs to
 *     its end, then the first finishes); a random schedule breaks it at once.
 *   pct_tree depth2: a planted bug of depth 2: the child sets `busy`, makes W steps, clears it; the
 *     parent asserts `busy` is clear after its steps. It fails only when the child set it before
 *     the parent's check AND the parent checks before the child clears it (two orderings).
 * Not built with IPCLAB_FIXED: the test (lab/interpose/pct_test.sh) states what it expects. */
#include <assert.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kSteps = 6, kWindow = 3 };

struct Shared {
  int log[4 * kSteps];
  int count;
  int busy;
};

static void Step(struct Shared* s, int who) {
  sched_yield();
  s->log[s->count++] = who;
}

int main(int argc, char** argv) {
  const int depth2 = argc == 2 && strcmp(argv[1], "depth2") == 0;
  if (argc != 2 || (!depth2 && strcmp(argv[1], "alternations") != 0)) {
    fprintf(stderr, "usage: pct_tree alternations|depth2\n");
    return 2;
  }
  struct Shared* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 2;
  memset(s, 0, sizeof *s);
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    for (int i = 0; i < kSteps; ++i) {
      if (depth2 && i == 1) s->busy = 1;
      if (depth2 && i == 1 + kWindow) s->busy = 0;
      Step(s, 1);
    }
    _exit(0);
  }
  for (int i = 0; i < kSteps; ++i) Step(s, 0);
  if (depth2) assert(s->busy == 0 && "the parent saw the child's half-done update");
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 2;
  int alternations = 0;
  for (int i = 1; i < s->count; ++i) alternations += s->log[i] != s->log[i - 1];
  if (!depth2) assert(alternations <= 2 && "more than two switches between the processes");
  munmap(s, sizeof *s);
  return 0;
}
