// Model-based (rc::state) property of ipc/signal's receiving paths against a model of pending
// signals: a SignalFd (the signals blocked, read as siginfo records) and a SelfPipe (their handlers,
// which run once the signals are unblocked). Four signals: SIGUSR1 and SIGUSR2 (standard: a second
// one sent while one is pending is merged into it, whose value and sender stay) and two real-time
// signals (each instance queued, in order, with its own value). The model is the pending list
// while blocked, and a count per signal of what the handlers may have seen while unblocked.
//
// Commands: Send (1-3 sigqueues of one signal with consecutive values, to this process from itself
// or from a forked child that exits before the parent goes on), Block, Unblock (everything pending goes to the handlers),
// Receive. Blocked, Receive reads the signalfd: exactly the pending signals, lowest number first
// (the kernel's order), real-time ones in the order sent, each with its value and sender pid, and
// nothing (after a short wait) when none is pending. Unblocked, Receive drains the self-pipe: every
// signal delivered since the last drain appears, no other; the handler may merge instances of one
// number (SelfPipe says so; ThreadSanitizer's deferred delivery does merge them).
//
// The planted twin (properties/planted/planted_signal.h: a receiver that takes each pending signal
// NUMBER once, as a sigpending() loop would) must be caught and shrunk to a short sequence. On
// failure rapidcheck prints the shrunk commands and an RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ipc/signal/signal.h"
#include "ipc/sys/deadline.h"
#include "ipc/testing/process.h"
#include "properties/planted/planted_signal.h"
#include "properties/stateful.h"

namespace {

using namespace std::chrono_literals;
using ipc::testing::ExitCode;
using ipc::testing::ForkChild;

int Signal(int index) {
  static const int kSignals[] = {SIGUSR1, SIGUSR2, SIGRTMIN + 2, SIGRTMIN + 3};
  return kSignals[index];
}
constexpr int kSignalCount = 4;
bool IsRealTime(int signo) { return signo >= SIGRTMIN; }
constexpr std::size_t kMaxPending = 12;  // below the 16 records one signalfd read returns

// A received (or expected) signal. `sender`: -1 this process, k >= 0 the k-th forked child.
struct Received {
  int signo = 0;
  int value = 0;
  int sender = -1;
  bool operator==(const Received&) const = default;
};

struct SignalModel {
  bool blocked = true;
  std::vector<Received> pending;      // blocked: in the order the kernel hands them out
  std::map<int, int> delivered;       // unblocked: signal -> instances the handlers may have seen
  int children = 0;                   // forked senders so far
};

// Adds `r` to the blocked pending list: a standard signal already pending is merged into it; the
// kernel hands out the lowest signal number first, each real-time number in the order sent.
void AddPending(SignalModel& m, const Received& r) {
  auto same = [&](const Received& p) { return p.signo == r.signo; };
  if (!IsRealTime(r.signo) && std::any_of(m.pending.begin(), m.pending.end(), same)) return;
  auto at = std::upper_bound(m.pending.begin(), m.pending.end(), r,
                             [](const Received& a, const Received& b) { return a.signo < b.signo; });
  m.pending.insert(at, r);
}

class SignalSutBase {
 public:
  SignalSutBase() {
    sigemptyset(&set_);
    for (int i = 0; i < kSignalCount; ++i) sigaddset(&set_, Signal(i));
    // The signals are blocked (by the signalfd) before their handlers exist: nothing is lost.
    auto fd = ipc::signal::SignalFd::Create({Signal(0), Signal(1), Signal(2), Signal(3)});
    if (!fd) throw std::runtime_error(fd.error().message());
    signalfd_.emplace(std::move(*fd));
    auto pipe = ipc::signal::SelfPipe::Create({Signal(0), Signal(1), Signal(2), Signal(3)},
                                              ipc::signal::Restart::kYes);
    if (!pipe) throw std::runtime_error(pipe.error().message());
    self_pipe_.emplace(std::move(*pipe));
  }
  // Blocks and reads whatever is pending before the handlers go (then the mask is restored).
  virtual ~SignalSutBase() {
    (void)Mask(SIG_BLOCK);
    for (;;) {
      auto r = signalfd_->Wait(ipc::sys::Deadline::After(0ms));
      if (!r || r->empty()) break;
    }
    self_pipe_.reset();
    signalfd_.reset();
  }
  // The blocked signals pending now (or by `deadline`), as this receiver reads them.
  virtual ipc::sys::Result<std::vector<Received>> ReceiveBlocked(ipc::sys::Deadline deadline) = 0;

  ipc::sys::Status Mask(int how) {
    return ipc::sys::CheckCode("pthread_sigmask", "property signals", ::pthread_sigmask(how, &set_, nullptr));
  }
  ipc::sys::Result<std::vector<int>> DrainHandlers(ipc::sys::Deadline deadline) { return self_pipe_->Wait(deadline); }
  ipc::sys::Result<std::vector<int>> DrainHandlersNow() { return self_pipe_->Drain(); }

  void AddChild(pid_t pid) { children_.push_back(pid); }
  // The sender index a pid stands for (-1 this process, -2 unknown).
  int SenderOf(pid_t pid) const {
    if (pid == ::getpid()) return -1;
    auto it = std::find(children_.begin(), children_.end(), pid);
    return it == children_.end() ? -2 : static_cast<int>(it - children_.begin());
  }

 protected:
  sigset_t set_;
  std::optional<ipc::signal::SignalFd> signalfd_;

 private:
  std::optional<ipc::signal::SelfPipe> self_pipe_;
  std::vector<pid_t> children_;
};

class RealSut : public SignalSutBase {
 public:
  ipc::sys::Result<std::vector<Received>> ReceiveBlocked(ipc::sys::Deadline deadline) override {
    auto r = signalfd_->Wait(deadline);
    if (!r) return std::unexpected(r.error());
    std::vector<Received> out;
    for (const auto& i : *r) {
      out.push_back({static_cast<int>(i.ssi_signo), i.ssi_int, SenderOf(static_cast<pid_t>(i.ssi_pid))});
    }
    return out;
  }
};

class PlantedSut : public SignalSutBase {
 public:
  ipc::sys::Result<std::vector<Received>> ReceiveBlocked(ipc::sys::Deadline deadline) override {
    auto r = properties::planted::PendingSetReceiver::Wait(set_, deadline);
    if (!r) return std::unexpected(r.error());
    std::vector<Received> out;
    for (const auto& i : *r) out.push_back({i.si_signo, i.si_value.sival_int, SenderOf(i.si_pid)});
    return out;
  }
};

using Cmd = rc::state::Command<SignalModel, SignalSutBase>;

// `times` instances of one signal, with values value, value + 1, ... (one sigqueue each).
struct Send : Cmd {
  int signo = Signal(*rc::gen::element(0, 1, 2, 3));  // element, not inRange: not scaled by size
  int value = *rc::gen::inRange(0, 1000);
  int times = *rc::gen::element(1, 2, 3);
  bool from_child = *rc::gen::arbitrary<bool>();
  void checkPreconditions(const SignalModel& m) const override {
    RC_PRE(m.pending.size() + static_cast<std::size_t>(times) <= kMaxPending);
  }
  void apply(SignalModel& m) const override {
    for (int i = 0; i < times; ++i) {
      Received r{signo, value + i, from_child ? m.children : -1};
      if (m.blocked) {
        AddPending(m, r);
      } else {
        ++m.delivered[signo];
      }
    }
    if (from_child) ++m.children;
  }
  void run(const SignalModel&, SignalSutBase& sut) const override {
    auto send = [&](pid_t to) {
      for (int i = 0; i < times; ++i) {
        if (!ipc::signal::Queue(to, signo, value + i)) return false;
      }
      return true;
    };
    if (!from_child) {
      RC_ASSERT(send(::getpid()));
      return;
    }
    const pid_t parent = ::getpid();
    auto child = ForkChild([&] { return send(parent) ? 0 : 2; });
    RC_ASSERT(child.has_value());
    sut.AddChild(child->pid());
    auto st = child->Wait(10s);  // sigqueue returned: the signals are pending here (or handled)
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == 0);
  }
  void show(std::ostream& os) const override {
    os << "Send(" << (IsRealTime(signo) ? "SIGRTMIN+" + std::to_string(signo - SIGRTMIN) : std::string("SIG") + sigabbrev_np(signo))
       << " x" << times << ", values from " << value << (from_child ? ", from a child" : "") << ")";
  }
};

struct Block : Cmd {
  void checkPreconditions(const SignalModel& m) const override { RC_PRE(!m.blocked); }
  void apply(SignalModel& m) const override { m.blocked = true; }
  void run(const SignalModel&, SignalSutBase& sut) const override { RC_ASSERT(sut.Mask(SIG_BLOCK).has_value()); }
  void show(std::ostream& os) const override { os << "Block"; }
};

struct Unblock : Cmd {
  void checkPreconditions(const SignalModel& m) const override { RC_PRE(m.blocked); }
  void apply(SignalModel& m) const override {
    for (const auto& p : m.pending) ++m.delivered[p.signo];
    m.pending.clear();
    m.blocked = false;
  }
  void run(const SignalModel&, SignalSutBase& sut) const override { RC_ASSERT(sut.Mask(SIG_UNBLOCK).has_value()); }
  void show(std::ostream& os) const override { os << "Unblock"; }
};

struct Receive : Cmd {
  void apply(SignalModel& m) const override {
    if (m.blocked) {
      m.pending.clear();
    } else {
      m.delivered.clear();
    }
  }
  void run(const SignalModel& m, SignalSutBase& sut) const override {
    if (m.blocked) {
      // Pending signals are there already; none pending must stay none.
      auto got = sut.ReceiveBlocked(ipc::sys::Deadline::After(m.pending.empty() ? 2ms : 2s));
      RC_ASSERT(got.has_value());
      RC_ASSERT(*got == m.pending);
      return;
    }
    // Unblocked: each delivered number at least once, at most as often as sent, nothing else.
    std::map<int, int> seen;
    auto deadline = ipc::sys::Deadline::After(m.delivered.empty() ? 2ms : 2s);
    while (seen.size() < m.delivered.size() || m.delivered.empty()) {
      auto got = sut.DrainHandlers(deadline);
      RC_ASSERT(got.has_value());
      if (got->empty()) break;  // the deadline passed
      for (int s : *got) ++seen[s];
    }
    auto late = sut.DrainHandlersNow();
    RC_ASSERT(late.has_value());
    for (int s : *late) ++seen[s];
    RC_ASSERT(seen.size() == m.delivered.size());
    for (const auto& [signo, count] : seen) {
      RC_ASSERT(m.delivered.contains(signo));
      RC_ASSERT(count <= m.delivered.at(signo));
    }
  }
  void show(std::ostream& os) const override { os << "Receive"; }
};

template <class SutT, class... Cmds>
void RunSequence() {
  ipc::testing::Watchdog dog(60s, "signal model: one command sequence");
  properties::RunCommands<Cmds...>(SignalModel{}, [] { return SutT(); });
}

#define SIGNAL_COMMANDS Send, Send, Send, Receive, Receive, Block, Unblock

RC_GTEST_PROP(SignalModel, StandardSignalsMergeRealTimeSignalsQueueWithValues, ()) {
  RunSequence<RealSut, SIGNAL_COMMANDS>();
}

TEST(SignalModel, FindsPlantedOneInstancePerNumberReceiverAndShrinksIt) {
  // The smallest failure is Send(a real-time signal x2), Receive: two commands.
  properties::ExpectCaughtAndShrunk("planted: one instance per pending signal number", 3,
                                    [] { RunSequence<PlantedSut, SIGNAL_COMMANDS>(); });
}

}  // namespace
