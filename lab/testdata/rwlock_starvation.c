/* Planted bug: a config table behind a glibc default rwlock, which prefers readers. Two reader
 * threads look it up in a loop, each holding the read lock across a short slow step (a sleep,
 * standing for I/O); their read sections overlap, so the read lock is never free and the writer
 * that must publish an update is overtaken again and again. Once it has been overtaken by more
 * read acquisitions than the bypass bound (IPCLAB_EXPLORE_BYPASS_BOUND, 32) `ipclab explore`
 * reports `starvation`.
 * IPCLAB_FIXED: the rwlock is created with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, so new
 * readers queue behind a waiting writer. */
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

enum { kLookups = 40 };

static pthread_rwlock_t table_lock;
static int table_version;

static void* Reader(void* arg) {
  const useconds_t slow_step = (useconds_t)(long)arg;
  int seen = 0;
  for (int i = 0; i < kLookups; ++i) {
    pthread_rwlock_rdlock(&table_lock);
    seen += table_version;
    usleep(slow_step);
    pthread_rwlock_unlock(&table_lock);
  }
  return (void*)(long)seen;
}

static void* Writer(void* arg) {
  (void)arg;
  pthread_rwlock_wrlock(&table_lock);
  table_version = 2;
  pthread_rwlock_unlock(&table_lock);
  return NULL;
}

int main(void) {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
#ifdef IPCLAB_FIXED
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
  pthread_rwlock_init(&table_lock, &attr);
  pthread_rwlockattr_destroy(&attr);
  pthread_t r1, r2, w;
  pthread_create(&r1, NULL, Reader, (void*)10L);
  pthread_create(&w, NULL, Writer, NULL);
  pthread_create(&r2, NULL, Reader, (void*)15L);
  pthread_join(r1, NULL);
  pthread_join(r2, NULL);
  pthread_join(w, NULL);
  assert(table_version == 2);
  printf("version %d\n", table_version);
  pthread_rwlock_destroy(&table_lock);
  return 0;
}
