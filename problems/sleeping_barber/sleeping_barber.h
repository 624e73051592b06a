// problems/sleeping_barber: one barber, kChairs waiting chairs, customers arriving over time.
//
// A customer who finds a free chair sits down and waits for a haircut; one who finds none leaves.
// The barber sleeps when nobody waits. Every seated customer must get exactly one haircut.
//
//   semaphores   correct: `customers`, `barber_ready`, `cut_done` and a mutex over `waiting`
//   monitor      correct: a bell (condition) re-checked in a `while` under the mutex
//   lost_wakeup  lost-wakeup: the barber looks at the room, unlocks, then goes to sleep; a
//                customer who rings in between is never heard
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterSleepingBarber(Catalogue& catalogue);
}  // namespace problems
