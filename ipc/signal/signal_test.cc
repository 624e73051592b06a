#include "ipc/signal/signal.h"

#include <unistd.h>

#include <atomic>
#include <set>

#include <gtest/gtest.h>

namespace ipc::signal {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_usr1_count{0};
void CountUsr1(int) { g_usr1_count.fetch_add(1, std::memory_order_relaxed); }

TEST(ScopedSignalMask, DefersDeliveryUntilTheScopeEnds) {
  g_usr1_count = 0;
  auto h = ScopedHandler::Install(SIGUSR1, CountUsr1, Restart::kYes);
  ASSERT_TRUE(h) << h.error().message();
  {
    ScopedSignalMask mask({SIGUSR1});
    ASSERT_EQ(::pthread_kill(pthread_self(), SIGUSR1), 0);
    EXPECT_EQ(g_usr1_count.load(), 0);
    sigset_t pending;
    sigpending(&pending);
    EXPECT_TRUE(sigismember(&pending, SIGUSR1));
  }
  EXPECT_EQ(g_usr1_count.load(), 1);
}

TEST(ScopedHandler, RestoresThePreviousAction) {
  struct sigaction before {};
  ::sigaction(SIGUSR2, nullptr, &before);
  {
    auto h = ScopedHandler::Noop(SIGUSR2, Restart::kNo);
    ASSERT_TRUE(h);
    struct sigaction now {};
    ::sigaction(SIGUSR2, nullptr, &now);
    EXPECT_NE(now.sa_handler, before.sa_handler);
    EXPECT_EQ(now.sa_flags & SA_RESTART, 0);
  }
  struct sigaction after {};
  ::sigaction(SIGUSR2, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(SelfPipe, DeliversSignalNumbersToAPollableFd) {
  auto sp = SelfPipe::Create({SIGUSR1, SIGUSR2}, Restart::kYes);
  ASSERT_TRUE(sp) << sp.error().message();
  auto none = sp->Wait(sys::Deadline::After(10ms));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ::raise(SIGUSR1);
  ::raise(SIGUSR2);
  auto got = sp->Wait(sys::Deadline::After(5s));
  ASSERT_TRUE(got);
  EXPECT_EQ(std::multiset<int>(got->begin(), got->end()), (std::multiset<int>{SIGUSR1, SIGUSR2}));
  auto second = SelfPipe::Create({SIGUSR1}, Restart::kYes);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().err, EBUSY);
}

TEST(SignalFd, ReadsQueuedSignalsWithTheirValues) {
  // In a child, so the mask signalfd needs does not touch the test runner's threads.
  auto c = Child::Fork([] {
    auto sfd = SignalFd::Create({SIGUSR1});
    if (!sfd) return 10;
    if (!Queue(::getpid(), SIGUSR1, 4242)) return 11;
    auto got = sfd->Wait(sys::Deadline::After(5s));
    if (!got || got->size() != 1) return 12;
    if ((*got)[0].ssi_signo != SIGUSR1 || (*got)[0].ssi_int != 4242) return 13;
    return 0;
  });
  ASSERT_TRUE(c);
  auto st = c->WaitFor(10s);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(st->ok()) << st->Describe();
}

TEST(Child, ReportsExitCodesAndSignals) {
  auto a = Child::Fork([] { return 7; });
  ASSERT_TRUE(a);
  auto sa = a->WaitFor(10s);
  ASSERT_TRUE(sa);
  EXPECT_TRUE(sa->exited);
  EXPECT_EQ(sa->code, 7);
  EXPECT_EQ(sa->Describe(), "exit 7");

  auto b = Child::Fork([] {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(b);
  auto timeout = b->WaitFor(20ms);
  ASSERT_FALSE(timeout);
  EXPECT_EQ(timeout.error().err, ETIMEDOUT);
  EXPECT_TRUE(b->running());
  ASSERT_TRUE(b->Kill(SIGTERM));
  auto sb = b->WaitFor(10s);
  ASSERT_TRUE(sb);
  EXPECT_FALSE(sb->exited);
  EXPECT_EQ(sb->signal, SIGTERM);
  EXPECT_EQ(sb->Describe(), "killed by SIGTERM");
}

TEST(Child, DestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    auto c = Child::Fork([] {
      for (;;) ::pause();
      return 0;
    });
    ASSERT_TRUE(c);
    pid = c->pid();
  }
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped: not even a zombie is left
  EXPECT_EQ(errno, ESRCH);
}

TEST(Child, SpawnExecsAndReportsExecFailure) {
  auto ok = Child::Spawn({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(ok) << ok.error().message();
  auto st = ok->WaitFor(10s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 3);
  auto bad = Child::Spawn({"/nonexistent/ipclab-no-such-program"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().err, ENOENT);
  EXPECT_EQ(bad.error().call, "execvp");
}

TEST(ChildReaper, ReapsWatchedChildrenOnSigchld) {
  auto sp = SelfPipe::Create({SIGCHLD}, Restart::kYes);
  ASSERT_TRUE(sp);
  ChildReaper reaper;
  std::vector<pid_t> pids;
  for (int i = 0; i < 5; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(i);
    reaper.Watch(pid);
    pids.push_back(pid);
  }
  std::set<int> codes;
  auto deadline = sys::Deadline::After(10s);
  while (reaper.watching() > 0) {
    ASSERT_FALSE(deadline.expired()) << "children not reaped";
    auto sigs = sp->Wait(deadline);
    ASSERT_TRUE(sigs);
    auto reaped = reaper.Reap();
    ASSERT_TRUE(reaped);
    for (const auto& r : *reaped) codes.insert(r.status.code);
  }
  EXPECT_EQ(codes, (std::set<int>{0, 1, 2, 3, 4}));
}

TEST(ScopedAlarm, AbortsAHungProcessWithADiagnosis) {
  auto c = Child::Fork([] {
    ScopedAlarm alarm(1s, "a deliberately hung child");
    for (;;) ::pause();
    return 0;
  });
  ASSERT_TRUE(c);
  auto st = c->WaitFor(20s);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->exited);
  EXPECT_EQ(st->signal, SIGABRT);
}

TEST(ScopedAlarm, IsQuietWhenTheWorkFinishes) {
  auto c = Child::Fork([] {
    { ScopedAlarm alarm(1s, "quick work"); }
    ::usleep(1'300'000);
    return 0;
  });
  ASSERT_TRUE(c);
  auto st = c->WaitFor(20s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok()) << st->Describe();
}

TEST(SignalStorm, InterruptsABlockingReadWhichRetriesAndLosesNothing) {
  auto h = ScopedHandler::Noop(SIGUSR1, Restart::kNo);
  ASSERT_TRUE(h);
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  std::atomic<int> eintr{0};
  std::atomic<bool> started{false};
  char got = 0;
  std::thread reader([&] {
    started = true;
    for (;;) {
      ssize_t n = ::read(p->read.get(), &got, 1);
      if (n == 1) return;
      if (n < 0 && errno == EINTR) {
        eintr.fetch_add(1);
        continue;
      }
      return;
    }
  });
  while (!started) std::this_thread::yield();
  uint64_t sent;
  {
    // At least 2000 signals, and on until one landed inside read() (under load the reader may
    // not reach read() before a short storm is over); 10 s at most.
    auto storm = SignalStorm::AtThread(reader.native_handle(), SIGUSR1, UINT64_MAX);
    auto deadline = sys::Deadline::After(10s);
    while ((storm.sent() < 2000 || eintr.load() == 0) && !deadline.expired()) {
      std::this_thread::sleep_for(1ms);
    }
    sent = storm.Stop();
  }
  ASSERT_EQ(::write(p->write.get(), "x", 1), 1);
  reader.join();
  EXPECT_GE(sent, 2000u);
  EXPECT_EQ(got, 'x');
  EXPECT_GT(eintr.load(), 0) << "the storm never interrupted the read";
}

TEST(SignalStorm, ProcessSurvivesWithANoopHandler) {
  auto h = ScopedHandler::Noop(SIGUSR1, Restart::kNo);
  ASSERT_TRUE(h);
  auto c = Child::Fork([] {
    for (int i = 0; i < 200; ++i) ::usleep(1000);
    return 0;
  });
  ASSERT_TRUE(c);
  SignalStorm storm = SignalStorm::AtProcess(c->pid(), SIGUSR1, 3000);
  EXPECT_EQ(storm.Join(), 3000u);
  auto st = c->WaitFor(20s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok()) << st->Describe();
}

}  // namespace
}  // namespace ipc::signal
