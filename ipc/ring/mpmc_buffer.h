// ipc/ring/mpmc_buffer.h: a bounded multi-producer/multi-consumer message buffer between
// processes that survives the death of any of them.
//
// The classic producer-consumer buffer: N fixed-size slots, a robust process-shared mutex and two
// condition variables (not_empty, not_full), all inside the buffer's memory (normally a
// segment's payload). Messages are variable-size, up to the slot size.
//
// Commit rule. A message is committed when `head` (messages ever committed) passes it; head is
// the last thing a Send writes, after the slot's sequence number, length, checksum and bytes.
// A Receive copies a committed slot out and advances `tail` as its last write. Every critical
// section therefore writes exactly one shared index, last, so the state after any crash is the
// state before or after one whole operation.
//
// What a crash may lose (exactly):
//   - a producer killed inside Send: that one message (its Send never returned). Consumers never
//     see a partial message: its slot is not committed and is overwritten by the next Send.
//   - a consumer killed inside Receive before it advanced tail: nothing; the message goes to the
//     next Receive. Killed after (its Receive had returned): the message was delivered to it.
// The next process to lock after a death gets EOWNERDEAD, checks the indices (tail <= head <=
// tail + slots; anything else is corruption, EBADMSG), marks the mutex consistent and continues;
// recoveries() counts these repairs. Waits sleep in slices of at most 50 ms and re-check (a
// belt on top of the condvar, which no death can wedge: see ipc/sync/robust_mutex.h).
//
// Each slot also carries the sequence number it was written for and an FNV-1a checksum of its
// bytes: a Receive that finds either wrong (a hostile or buggy writer) skips the slot and reports
// EBADMSG, and never copies more than the slot holds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "ipc/chaos/chaos.h"
#include "ipc/shm/header.h"
#include "ipc/sync/robust_mutex.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::ring {
IPCLAB_CHAOS_NAMESPACE_BEGIN

inline constexpr std::uint32_t kMpmcLayout = shm::LayoutTag("MPMC");

struct MpmcTesting {
  // When set, Send raises SIGKILL after copying this many bytes of the message into its slot
  // (holding the mutex): the crash mid-write the commit rule is about.
  std::optional<std::size_t> kill_after_bytes;
};

class MpmcBuffer {
 public:
  // Bytes of buffer memory for `slots` slots of `slot_bytes` bytes each.
  static std::size_t BytesFor(std::uint32_t slots, std::uint32_t slot_bytes);
  // Initialises the buffer in `memory` (64-byte aligned), once, before sharing it.
  static sys::Status Init(std::span<std::byte> memory, std::uint32_t slots, std::uint32_t slot_bytes);
  // Validates and uses an initialised buffer (any number of processes may attach).
  static sys::Result<MpmcBuffer> Attach(std::span<std::byte> memory);

  std::uint32_t slots() const { return slots_; }
  std::uint32_t slot_bytes() const { return slot_bytes_; }

  // Send: EMSGSIZE if the message exceeds the slot size; ETIMEDOUT at the deadline.
  sys::Result<bool> TrySend(std::span<const std::byte> msg);
  sys::Status SendUntil(std::span<const std::byte> msg, sys::Deadline deadline);
  sys::Status Send(std::span<const std::byte> msg) { return SendUntil(msg, sys::Deadline::Never()); }
  template <class Rep, class Period>
  sys::Status SendFor(std::span<const std::byte> msg, std::chrono::duration<Rep, Period> d) {
    return SendUntil(msg, sys::Deadline::After(d));
  }

  // Receive: the message's size; EMSGSIZE (message left in place) if `out` is too small.
  sys::Result<std::optional<std::size_t>> TryReceive(std::span<std::byte> out);
  sys::Result<std::size_t> ReceiveUntil(std::span<std::byte> out, sys::Deadline deadline);
  sys::Result<std::size_t> Receive(std::span<std::byte> out) {
    return ReceiveUntil(out, sys::Deadline::Never());
  }
  template <class Rep, class Period>
  sys::Result<std::size_t> ReceiveFor(std::span<std::byte> out, std::chrono::duration<Rep, Period> d) {
    return ReceiveUntil(out, sys::Deadline::After(d));
  }

  // Messages committed and not yet received.
  sys::Result<std::uint64_t> Size();
  // How many times a process found the mutex's owner dead and repaired the buffer.
  sys::Result<std::uint64_t> Recoveries();

  MpmcTesting& testing() { return testing_; }

 // The shared control block (opaque; defined in mpmc_buffer.cc).
  struct Control;

 private:
  MpmcBuffer(Control* c, std::uint32_t slots, std::uint32_t slot_bytes)
      : c_(c), slots_(slots), slot_bytes_(slot_bytes) {}
  std::byte* SlotAt(std::uint64_t index) const;

  Control* c_;
  std::uint32_t slots_;       // private copies: never re-read from shared memory
  std::uint32_t slot_bytes_;
  MpmcTesting testing_;
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::ring
