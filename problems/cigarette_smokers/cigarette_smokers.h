// problems/cigarette_smokers: Patil's problem (1971). An agent puts two of the three ingredients
// (tobacco, paper, matches) on the table; the smoker who holds the third should take both and
// smoke, then wake the agent. The agent may not be changed.
//
//   naive    deadlock: each smoker waits for its two ingredients one after the other; two
//            smokers each grab one of the pair and wait forever for the other
//   pushers  correct: three helper threads (Downey) record what is on the table and wake the
//            one smoker who can use it
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterCigaretteSmokers(Catalogue& catalogue);
}  // namespace problems
