/* Planted bug: a parent maps MAP_SHARED|MAP_ANONYMOUS memory, forks a worker that writes its
 * result there, and reads the result before waiting for the worker (waitpid comes after the
 * read): a data race between the two processes on memory inherited over fork. Built with
 * tools/ipclab-cc: reported naming both processes, both lines and anonymous-shared#1+0x4.
 * IPCLAB_FIXED: the parent reads the result after waitpid (the child's exit happens before). */
#define _GNU_SOURCE
#include <assert.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct Result {
  int input;
  int output;
};

static int Work(int x) { return x * x + 1; }

int main(void) {
  struct Result* r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert(r != MAP_FAILED);
  r->input = 6;  // before fork: ordered before the child
  r->output = 0;
  pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    r->output = Work(r->input);
    _exit(0);
  }
  int status = 0;
#ifdef IPCLAB_FIXED
  waitpid(child, &status, 0);
  int got = r->output;
#else
  int got = r->output;
  waitpid(child, &status, 0);
#endif
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("result %d\n", got);
  munmap(r, sizeof *r);
  return got == 37 ? 0 : 1;
}
