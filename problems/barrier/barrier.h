// problems/barrier: a reusable barrier for kThreads threads over kPhases phases. Nobody may start
// phase p+1 before everyone has finished phase p.
//
//   two_turnstile  correct: one turnstile lets everyone in, a second lets everyone out before
//                  the first can be reused (Downey, The Little Book of Semaphores, 3.7)
//   one_turnstile  assertion-failure: the last arrival posts kThreads permits and resets the
//                  count; a fast thread passes, laps to the next phase and takes a permit left
//                  for a slow one
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterBarrier(Catalogue& catalogue);
}  // namespace problems
