// Stress: many processes create, fill, reopen and remove POSIX segments under ipclab names as fast
// as they can, with random yields and naps, while the parent SIGKILLs random workers mid-flight
// and starts new ones. Checked: no two objects ever collide (O_EXCL never says EEXIST), every
// reopened segment holds what its creator wrote, and afterwards the leak audit finds exactly the
// debris killed workers can leave (at most one segment per kill) and nothing else.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"
#include "stress/knobs.h"

namespace stress {
namespace {

using namespace std::chrono_literals;
using ipc::sys::Call;

constexpr size_t kSize = 4096;

// Exit codes of a worker.
enum : int { kOk = 0, kCollision = 3, kCorrupt = 4, kSyscall = 5 };

int WorkerLoop(uint64_t seed, std::chrono::steady_clock::time_point until) {
  std::mt19937_64 rng(seed);
  long ops = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto name = ipc::audit::PosixName("stress");
    if (!name) return kSyscall;
    auto fd = Call("shm_open", *name, [&] { return ::shm_open(name->c_str(), O_CREAT | O_EXCL | O_RDWR, 0600); });
    if (!fd) return fd.error().err == EEXIST ? kCollision : kSyscall;
    ipc::sys::Fd owner(*fd);
    if (!Call("ftruncate", *name, [&] { return ::ftruncate(owner.get(), kSize); })) return kSyscall;
    auto map = Call("mmap", *name, [&] { return ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, owner.get(), 0); });
    if (!map) return kSyscall;
    long stamp[2] = {static_cast<long>(::getpid()), ops};
    std::memcpy(*map, stamp, sizeof stamp);
    switch (rng() % 4) {  // random scheduling noise
      case 0: std::this_thread::yield(); break;
      case 1: std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200)); break;
      default: break;
    }
    auto again = Call("shm_open", *name, [&] { return ::shm_open(name->c_str(), O_RDWR, 0); });
    if (!again) return kSyscall;
    ipc::sys::Fd reader(*again);
    long seen[2] = {};
    if (::pread(reader.get(), seen, sizeof seen, 0) != sizeof seen) return kSyscall;
    if (std::memcmp(seen, stamp, sizeof stamp) != 0) return kCorrupt;
    ::munmap(*map, kSize);
    if (!Call("shm_unlink", *name, [&] { return ::shm_unlink(name->c_str()); })) return kSyscall;
    ++ops;
  }
  return kOk;
}

void Watchdog(int seconds) {
  struct sigaction sa{};
  sa.sa_handler = [](int) {
    const char msg[] = "hang: names_stress_test made no progress before its watchdog fired\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(1);
  };
  ::sigaction(SIGALRM, &sa, nullptr);
  ::alarm(static_cast<unsigned>(seconds));
}

TEST(NamesStress, NoCollisionNoCorruptionOnlyKilledWorkersLeak) {
  std::string error;
  Knobs knobs = ReadKnobs(2s, &error);
  ASSERT_TRUE(error.empty()) << error;
  Watchdog(static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(knobs.duration).count()) + 60);
  SCOPED_TRACE("rerun: " + knobs.RerunHint("bazel test //stress:names_stress_test"));

  std::mt19937_64 rng(knobs.seed);
  auto until = std::chrono::steady_clock::now() + knobs.duration;
  constexpr int kWorkers = 4;
  auto spawn = [&]() -> pid_t {
    uint64_t worker_seed = rng();
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(WorkerLoop(worker_seed, until));
    return pid;
  };
  std::vector<pid_t> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(spawn());

  int kills = 0;
  while (std::chrono::steady_clock::now() + 50ms < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 80));
    size_t victim = rng() % workers.size();
    if (::kill(workers[victim], SIGKILL) == 0) {
      ::waitpid(workers[victim], nullptr, 0);
      ++kills;
      workers[victim] = spawn();
    }
  }
  for (pid_t w : workers) {
    int status = 0;
    ASSERT_EQ(::waitpid(w, &status, 0), w);
    ASSERT_TRUE(WIFEXITED(status)) << "worker " << w << " died: status " << status;
    EXPECT_NE(WEXITSTATUS(status), kCollision) << "two objects got the same ipclab name";
    EXPECT_NE(WEXITSTATUS(status), kCorrupt) << "a reopened segment did not hold what was written";
    EXPECT_EQ(WEXITSTATUS(status), kOk);
  }

  auto debris = ipc::audit::ListSessionObjects(ipc::audit::SessionPid());
  EXPECT_LE(debris.size(), static_cast<size_t>(kills))
      << "more objects left than workers were killed: something leaks without a crash";
  for (const auto& o : debris) {
    EXPECT_EQ(o.purpose, "stress") << ipc::audit::Describe(o);
    EXPECT_TRUE(ipc::audit::Remove(o).has_value()) << ipc::audit::Describe(o);
  }
  RecordProperty("kills", kills);
  std::printf("names_stress: seed %llu, %d kills, %zu segments reaped from killed workers\n",
              static_cast<unsigned long long>(knobs.seed), kills, debris.size());
}

}  // namespace
}  // namespace stress
