/* Planted bug: an account whose balance is checked and debited in two separate spinlock critical
 * sections (check-then-act). Two withdrawals of 80 from 100 can both pass the check, leaving the
 * balance negative; the program's assert fails. Each pthread_spin_* call is a scheduling point
 * of `ipclab explore`. IPCLAB_FIXED: check and debit in one critical section. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

static pthread_spinlock_t lock;
static int balance = 100;

static void* Withdraw(void* arg) {
  (void)arg;
  const int amount = 80;
#ifdef IPCLAB_FIXED
  pthread_spin_lock(&lock);
  if (balance >= amount) balance -= amount;
  pthread_spin_unlock(&lock);
#else
  pthread_spin_lock(&lock);
  int ok = balance >= amount;
  pthread_spin_unlock(&lock);
  if (ok) {
    pthread_spin_lock(&lock);
    balance -= amount;
    pthread_spin_unlock(&lock);
  }
#endif
  return NULL;
}

int main(void) {
  pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
  pthread_t a, b;
  pthread_create(&a, NULL, Withdraw, NULL);
  pthread_create(&b, NULL, Withdraw, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("balance %d\n", balance);
  assert(balance >= 0);
  pthread_spin_destroy(&lock);
  return 0;
}
