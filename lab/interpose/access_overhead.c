/* The program of access_overhead.sh: two threads, 200 locked increments each of a counter and a
 * table entry (correct: no finding). Built once by clang-19 and once by tools/ipclab-cc. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
enum { kIters = 200 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int counter, table[16];
static void* W(void* a) { (void)a; for (int i = 0; i < kIters; ++i) { pthread_mutex_lock(&lock); counter++; table[i % 16] += counter; pthread_mutex_unlock(&lock); } return 0; }
int main(void) { pthread_t a, b; pthread_create(&a, 0, W, 0); pthread_create(&b, 0, W, 0); pthread_join(a, 0); pthread_join(b, 0); assert(counter == 2 * kIters); printf("%d\n", counter); return 0; }
