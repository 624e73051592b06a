// Planted bug: double-checked initialization with a plain pointer that is published before the
// object is filled in. A second thread can take the unlocked fast path, see the pointer, and read
// a half-built object. Built with tools/ipclab-c++: the race detector reports the unlocked read of
// `instance` against the write under the lock, with both lines.
// IPCLAB_FIXED: the pointer is a std::atomic, filled in first and published with a release
// store, read with an acquire load (the textbook correct version).
#include <pthread.h>

#include <atomic>
#include <cassert>
#include <cstdio>
#include <cstdlib>

struct Config {
  int port;
  int workers;
};

namespace {

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#ifdef IPCLAB_FIXED
std::atomic<Config*> instance{nullptr};

Config* Get() {
  Config* c = instance.load(std::memory_order_acquire);
  if (c == nullptr) {
    pthread_mutex_lock(&lock);
    c = instance.load(std::memory_order_relaxed);
    if (c == nullptr) {
      c = static_cast<Config*>(std::malloc(sizeof(Config)));
      c->port = 8080;
      c->workers = 4;
      instance.store(c, std::memory_order_release);
    }
    pthread_mutex_unlock(&lock);
  }
  return c;
}
#else
Config* instance = nullptr;

Config* Get() {
  if (instance == nullptr) {
    pthread_mutex_lock(&lock);
    if (instance == nullptr) {
      auto* c = static_cast<Config*>(std::calloc(1, sizeof(Config)));
      instance = c;  // published too early
      c->port = 8080;
      c->workers = 4;
    }
    pthread_mutex_unlock(&lock);
  }
  return instance;
}
#endif

void* Server(void*) {
  Config* c = Get();
  assert(c->port == 8080 && c->workers == 4);
  return nullptr;
}

}  // namespace

int main() {
  pthread_t a, b;
  pthread_create(&a, nullptr, Server, nullptr);
  pthread_create(&b, nullptr, Server, nullptr);
  pthread_join(a, nullptr);
  pthread_join(b, nullptr);
  std::printf("port %d\n", Get()->port);
  std::free(Get());
  return 0;
}
