#include "problems/lock_file/lock_file.h"

#include <chrono>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

constexpr int kProcesses = 2;
constexpr int kAppends = 2;
constexpr std::chrono::microseconds kRetry{200};

// The file system as the two processes see it.
struct Files {
  lab::Atomic<bool> lock_exists{false, "lock file"};  // the lock file
  lab::Atomic<int> holders{0, "holders"};        // processes that believe they hold the lock (checked)
  lab::Shared<int> data_length{0, "data file"};     // the shared data file
};

// Open the lock file: check, then create (two system calls).
void LockCheckThenCreate(Files& fs) {
  while (fs.lock_exists.load()) lab::sleep_for(kRetry);  // access(lock, F_OK) == 0: wait
  // BUG: another process can run its check right here and also see no lock file.
  fs.lock_exists.store(true);                             // open(lock, O_CREAT | O_WRONLY)
}

// open(lock, O_CREAT | O_EXCL): fails with EEXIST if it is there; one atomic step.
void LockExclusive(Files& fs) {
  for (;;) {
    bool expected = false;
    if (fs.lock_exists.compare_exchange_strong(expected, true)) return;
    lab::sleep_for(kRetry);
  }
}

void Run(void (*lock)(Files&)) {
  Files fs;
  std::vector<lab::Thread> processes;
  for (int p = 0; p < kProcesses; ++p) {
    processes.push_back(lab::Thread([&fs, lock] {
      for (int i = 0; i < kAppends; ++i) {
        lock(fs);
        LAB_ASSERT_MSG(fs.holders.fetch_add(1) == 0, "two processes hold the lock file at once");
        fs.data_length.write(fs.data_length.read() + 1);  // append a record
        fs.holders.fetch_sub(1);
        fs.lock_exists.store(false);  // unlink(lock)
      }
    }));
  }
  for (lab::Thread& p : processes) p.join();
  LAB_ASSERT_MSG(fs.data_length.read() == kProcesses * kAppends, "an appended record was lost");
}

}  // namespace

void RegisterLockFile(Catalogue& catalogue) {
  const std::string doc = "docs/problems/lock_file.md";
  // Random walks find the two-step window at once; PCT (which runs one process at a time and
  // preempts it at a few points) rarely lines both processes' windows up.
  const Exploration budget = {.strategy = "random", .iterations = 500};
  catalogue.Add({
      .name = "lock_file/check_then_create",
      .expected = "assertion-failure",
      .description = "lock file taken by `if (!exists) create`: two processes get it at once",
      .explanation =
          "Checking that the lock file is absent and creating it are two system calls; both "
          "processes can check before either creates, and creating an existing file without "
          "O_EXCL succeeds. Fix: open(path, O_CREAT | O_EXCL, 0600), which fails with EEXIST if "
          "the file exists: the check and the creation are one atomic step in the kernel.",
      .doc = doc,
      .exploration = budget,
      .body = [] { Run(LockCheckThenCreate); },
  });
  catalogue.Add({
      .name = "lock_file/o_excl",
      .expected = "clean",
      .description = "lock file taken with open(O_CREAT | O_EXCL): check and create are one step",
      .explanation =
          "O_EXCL makes the kernel check and create atomically; the loser gets EEXIST and retries "
          "later, so at most one process holds the lock.",
      .doc = doc,
      .exploration = {.strategy = "dfs", .iterations = 2000},  // all 434 interleavings
      .body = [] { Run(LockExclusive); },
  });
}

}  // namespace problems
