// A parent starts a worker with posix_spawn; the worker execs a helper (this program again, in
// helper mode), and the helper reads the configuration file the parent writes. Planted bug (an
// order violation across posix_spawn and exec): the parent writes the configuration after it
// spawned the worker, so the helper may look before it exists.
// IPCLAB_FIXED: the parent writes the configuration before it spawns the worker.
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int Helper(const char* config) {
  if (access(config, R_OK) != 0) {
    fprintf(stderr, "helper: no configuration at %s\n", config);
    return 3;
  }
  char buf[16] = {0};
  int fd = open(config, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  return n > 0 && strcmp(buf, "level=3\n") == 0 ? 0 : 4;
}

static void WriteConfig(const char* config) {
  int fd = open(config, O_WRONLY | O_CREAT | O_EXCL, 0600);
  assert(fd >= 0);
  ssize_t n = write(fd, "level=3\n", 8);
  assert(n == 8);
  close(fd);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "worker") == 0) {
    // The worker becomes the helper: the same process, a new image.
    char* args[] = {argv[0], "helper", argv[2], NULL};
    execv("/proc/self/exe", args);
    perror("execv");
    return 127;
  }
  if (argc == 3 && strcmp(argv[1], "helper") == 0) return Helper(argv[2]);

  char dir[] = "/tmp/ipclab-testdata-spawn-XXXXXX";
  assert(mkdtemp(dir) != NULL);
  char config[sizeof dir + 16];
  snprintf(config, sizeof config, "%s/config", dir);
  // A spawn of a program that does not exist fails as the real call does, and leaves no process.
  pid_t none;
  char* missing[] = {"/nonexistent/ipclab-helper", NULL};
  assert(posix_spawn(&none, missing[0], NULL, NULL, missing, environ) != 0);
#ifdef IPCLAB_FIXED
  WriteConfig(config);
#endif
  pid_t worker;
  char* args[] = {argv[0], "worker", config, NULL};
  int rc = posix_spawn(&worker, "/proc/self/exe", NULL, NULL, args, environ);
  assert(rc == 0);
#ifndef IPCLAB_FIXED
  WriteConfig(config);
#endif
  int status = 0;
  pid_t w = waitpid(worker, &status, 0);
  unlink(config);
  rmdir(dir);
  assert(w == worker);
  assert(WIFEXITED(status) && WEXITSTATUS(status) == 0 && "the helper found no configuration");
  printf("the helper read the configuration\n");
  return 0;
}
