/* lab/testdata/shared_segment.h: the process programs' POSIX shared memory segment.
 * Creates /dev/shm/ipclab-testdata-<purpose>-<pid> (O_EXCL, mode 0600), sizes and maps it, and
 * unlinks it at once: the mapping (inherited over fork) keeps it alive, so nothing can leak
 * however the program ends. The name stays in the explorer's reports while it is mapped. */
#pragma once
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static inline void* MapSharedSegment(const char* purpose, size_t size) {
  char name[64];
  snprintf(name, sizeof name, "/ipclab-testdata-%s-%d", purpose, (int)getpid());
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  assert(fd >= 0);
  int rc = ftruncate(fd, (off_t)size);
  assert(rc == 0);
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert(p != MAP_FAILED);
  close(fd);
  shm_unlink(name);
  return p;
}
