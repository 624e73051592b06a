// problems/model/mailbox.h: IPC channels modelled with lab primitives, so the lab can explore
// programs whose processes talk through them. They behave like the kernel objects they stand for:
//
//   Mailbox<kCapacity>  a bounded message queue (a POSIX or System V queue): Send blocks while it
//                       is full, Receive while it is empty; messages carry the sender and a value.
//   Pipe                a pipe: Read blocks while it is empty and some write end is still open
//                       anywhere; with every write end closed it returns end-of-file. fork()
//                       duplicates the write end (DupWriteEnd), and each copy must be closed.
//
// Every operation is built from lab::Semaphore / lab::Mutex / lab::Shared, so each is a handful of
// scheduling points and its state is race-checked like any other shared memory.
#pragma once

#include <array>
#include <optional>

#include "lab/sync/sync.h"

namespace problems::model {

struct Message {
  int from = 0;  // the sender, or for a reply the addressee
  int value = 0;
};

template <int kCapacity>
class Mailbox {
 public:
  void Send(Message m) {
    free_.acquire();
    mutex_.lock();
    const int t = tail_.read();
    from_[t].write(m.from);
    value_[t].write(m.value);
    tail_.write((t + 1) % kCapacity);
    mutex_.unlock();
    queued_.release();
  }

  Message Receive() {
    queued_.acquire();
    mutex_.lock();
    const int h = head_.read();
    Message m{from_[h].read(), value_[h].read()};
    head_.write((h + 1) % kCapacity);
    mutex_.unlock();
    free_.release();
    return m;
  }

 private:
  lab::Semaphore free_{kCapacity};
  lab::Semaphore queued_{0};
  lab::Mutex mutex_;
  std::array<lab::Shared<int>, kCapacity> from_{};
  std::array<lab::Shared<int>, kCapacity> value_{};
  lab::Shared<int> head_{0};
  lab::Shared<int> tail_{0};
};

class Pipe {
 public:
  static constexpr int kCapacity = 8;

  // A new pipe has one write end open (the creator's).
  void DupWriteEnd() {
    mutex_.lock();
    write_ends_.write(write_ends_.read() + 1);
    mutex_.unlock();
  }

  void CloseWriteEnd() {
    mutex_.lock();
    const int left = write_ends_.read() - 1;
    write_ends_.write(left);
    mutex_.unlock();
    if (left == 0) readable_.release();  // readers wake and see end-of-file
  }

  void Write(int value) {
    free_.acquire();
    mutex_.lock();
    const int t = tail_.read();
    data_[t].write(value);
    tail_.write((t + 1) % kCapacity);
    queued_.write(queued_.read() + 1);
    mutex_.unlock();
    readable_.release();
  }

  // The next value, or nullopt at end-of-file (empty and no write end open).
  std::optional<int> Read() {
    readable_.acquire();  // blocks while empty and a write end is open
    mutex_.lock();
    if (queued_.read() == 0) {  // woken by the last close: end-of-file, for every later read too
      mutex_.unlock();
      readable_.release();
      return std::nullopt;
    }
    const int h = head_.read();
    const int value = data_[h].read();
    head_.write((h + 1) % kCapacity);
    queued_.write(queued_.read() - 1);
    mutex_.unlock();
    free_.release();
    return value;
  }

 private:
  lab::Semaphore readable_{0};  // one post per value written, one for end-of-file
  lab::Semaphore free_{kCapacity};
  lab::Mutex mutex_;
  std::array<lab::Shared<int>, kCapacity> data_{};
  lab::Shared<int> head_{0};
  lab::Shared<int> tail_{0};
  lab::Shared<int> queued_{0};
  lab::Shared<int> write_ends_{1};
};

}  // namespace problems::model
