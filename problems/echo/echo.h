// problems/echo: the course's echo client and server over a pair of message channels (requests,
// replies). The client sends kLines lines, reads each echo back, then says goodbye.
//
//   request_reply      correct: the client speaks first, the server answers each line
//   both_wait_to_read  deadlock: the client waits for the server's greeting, the server waits for
//                      the client's first line; neither protocol is wrong alone, together they
//                      wait for ever
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterEcho(Catalogue& catalogue);
}  // namespace problems
