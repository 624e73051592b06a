// problems/master_worker: from the course's shared-memory exercise. The master fills a shared
// segment with work, then raises a `ready` flag; the worker polls the flag (sleeping between
// polls, as the exercise's usleep loop does), then reads the work.
//
//   plain_flag       data-race: the flag is a plain variable; nothing orders the master's writes
//                    before the worker's reads (and the compiler may hoist the load out of the loop)
//   relaxed_flag     data-race: an atomic flag, but relaxed: the flag itself is fine, the payload
//                    it announces is still unordered
//   release_acquire  correct: store(true, release) / load(acquire)
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterMasterWorker(Catalogue& catalogue);
}  // namespace problems
