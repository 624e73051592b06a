// properties/planted/planted_socket.h: a TEST-ONLY frame reader over ipc::socket::FrameReader
// with a planted end-of-stream bug: a stream that ends inside a frame (the peer died mid-frame)
// is reported as a clean end of stream instead of ECONNRESET, so the torn frame vanishes silently
// and the receiver cannot tell a crash from an orderly close. Used by socket_model_property_test
// to show the model-based property catches and shrinks it.
#pragma once

#include <cerrno>
#include <cstddef>
#include <optional>

#include "ipc/socket/socket.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"
#include "ipc/wire/wire.h"

namespace properties::planted {

class TornFrameAsEofReader {
 public:
  TornFrameAsEofReader(int fd, std::size_t max_payload) : reader_(fd, max_payload) {}
  ipc::sys::Result<std::optional<ipc::wire::Frame>> Next(ipc::sys::Deadline deadline) {
    auto r = reader_.Next(deadline);
    if (!r && r.error().err == ECONNRESET) return std::optional<ipc::wire::Frame>();  // PLANTED BUG
    return r;
  }

 private:
  ipc::socket::FrameReader reader_;
};

}  // namespace properties::planted
