#include "ipc/audit/doctor.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"

namespace ipc::audit {
namespace {

using Status = Check::Status;

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string Tabs(std::string s) {
  std::replace(s.begin(), s.end(), '\t', ' ');
  return s;
}

Check Machine() {
  utsname u{};
  ::uname(&u);
  return {"machine", Status::kOk,
          fmt::format("{} {} {}, {} cores", u.sysname, u.release, u.machine,
                      std::thread::hardware_concurrency())};
}

Check PosixShm() {
  struct statvfs vfs{};
  if (::statvfs("/dev/shm", &vfs) != 0) {
    return {"posix-shm", Status::kFail, sys::Error("statvfs", "/dev/shm").message()};
  }
  auto name = PosixName("doctor");
  auto fd = sys::Call("shm_open", *name,
                      [&] { return ::shm_open(name->c_str(), O_CREAT | O_EXCL | O_RDWR, 0600); });
  if (!fd) return {"posix-shm", Status::kFail, fd.error().message()};
  sys::Fd owned(*fd);
  ::shm_unlink(name->c_str());
  return {"posix-shm", Status::kOk,
          fmt::format("/dev/shm writable, {} MiB free",
                      static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_bsize >> 20)};
}

Check PosixMqueue() {
  auto name = PosixName("doctor");
  mq_attr attr{};
  attr.mq_maxmsg = 1;
  attr.mq_msgsize = 64;
  auto q = sys::Call("mq_open", *name, [&] {
    return ::mq_open(name->c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  });
  std::string limits = fmt::format("msg_max {}, msgsize_max {}, queues_max {}",
                                   ReadFirstLine("/proc/sys/fs/mqueue/msg_max"),
                                   ReadFirstLine("/proc/sys/fs/mqueue/msgsize_max"),
                                   ReadFirstLine("/proc/sys/fs/mqueue/queues_max"));
  if (!q) return {"posix-mqueue", Status::kFail, q.error().message()};
  ::mq_close(*q);
  ::mq_unlink(name->c_str());
  if (::access("/dev/mqueue", F_OK) != 0) {
    return {"posix-mqueue", Status::kWarn,
            fmt::format("queues work ({}), but /dev/mqueue is not mounted, so leak audits cannot "
                        "see them; as root: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue",
                        limits)};
  }
  return {"posix-mqueue", Status::kOk, fmt::format("works, /dev/mqueue mounted ({})", limits)};
}

Check SystemV() {
  return {"system-v", Status::kOk,
          fmt::format("shmmax {}, sem (semmsl semmns semopm semmni) {}, msgmni {}",
                      ReadFirstLine("/proc/sys/kernel/shmmax"),
                      Tabs(ReadFirstLine("/proc/sys/kernel/sem")),
                      ReadFirstLine("/proc/sys/kernel/msgmni"))};
}

Check Limits() {
  rlimit files{}, mq{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  ::getrlimit(RLIMIT_MSGQUEUE, &mq);
  return {"limits", Status::kOk,
          fmt::format("open files {}, message-queue bytes {}", files.rlim_cur, mq.rlim_cur)};
}

// The two costs the lab's figures are judged against on this machine.
Check Costs() {
  using Clock = std::chrono::steady_clock;
  auto ab = sys::MakePipe();
  auto ba = sys::MakePipe();
  if (!ab || !ba) return {"costs", Status::kFail, (ab ? ba.error() : ab.error()).message()};
  constexpr int kRounds = 2000;
  std::thread echo([&] {
    char c;
    for (int i = 0; i < kRounds; ++i) {
      if (::read(ab->read.get(), &c, 1) != 1 || ::write(ba->write.get(), &c, 1) != 1) return;
    }
  });
  auto t0 = Clock::now();
  char c = 'x';
  for (int i = 0; i < kRounds; ++i) {
    if (::write(ab->write.get(), &c, 1) != 1 || ::read(ba->read.get(), &c, 1) != 1) break;
  }
  auto round_trip = (Clock::now() - t0) / kRounds;
  echo.join();
  constexpr int kThreads = 200;
  auto t1 = Clock::now();
  for (int i = 0; i < kThreads; ++i) {
    int x = 0;
    std::thread a([&x] { x += 1; });
    a.join();
  }
  auto spawn = (Clock::now() - t1) / kThreads;
  auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count(); };
  return {"costs", Status::kOk,
          fmt::format("blocking wakeup (pipe round trip / 2) {:.1f} us; std::thread create+join {:.1f} us",
                      us(round_trip) / 2, us(spawn))};
}

Check Leftovers() {
  auto objects = ListObjects();
  if (objects.empty()) return {"leftovers", Status::kOk, "no ipclab IPC objects on this machine"};
  size_t orphans = std::count_if(objects.begin(), objects.end(),
                                 [](const IpcObject& o) { return !o.session_alive; });
  return {"leftovers", orphans ? Status::kWarn : Status::kOk,
          fmt::format("{} ipclab objects alive, {} orphaned (see `ipclab leaks`)", objects.size(),
                      orphans)};
}

std::string_view StatusName(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kWarn: return "warn";
    case Status::kFail: return "FAIL";
  }
  return "?";
}

}  // namespace

std::vector<Check> RunDoctor() {
  return {Machine(), PosixShm(), PosixMqueue(), SystemV(), Limits(), Costs(), Leftovers()};
}

std::function<int()> SetupDoctorCommand(CLI::App& sub) {
  auto json = std::make_shared<bool>(false);
  sub.add_flag("--json", *json, "print the checks as JSON");
  return [json] {
    auto checks = RunDoctor();
    bool failed = std::any_of(checks.begin(), checks.end(),
                              [](const Check& c) { return c.status == Status::kFail; });
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& c : checks) {
        out.push_back({{"check", c.name}, {"status", StatusName(c.status)}, {"detail", c.detail}});
      }
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& c : checks) {
        std::cout << fmt::format("{:<5} {:<13} {}\n", StatusName(c.status), c.name, c.detail);
      }
    }
    return failed ? 2 : 0;
  };
}

}  // namespace ipc::audit
