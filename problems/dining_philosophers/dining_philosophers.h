// problems/dining_philosophers: five philosophers, five forks, each needs both neighbours' forks.
//
// Each philosopher thinks (1 ms of virtual time), picks up two forks, eats (1 ms), puts them
// down, kMeals times. Between the first and the second fork it pauses briefly (reaching across
// the table), which is what makes the naive version's deadlock show up on almost every schedule
// instead of one in thousands.
//
//   naive               deadlock: everyone takes the left fork, then waits for the right one
//   resource_ordering   correct: forks are numbered, everyone takes the lower number first
//   waiter              correct: an arbitrator hands out both forks at once, or none
//   chandy_misra        correct: dirty/clean forks passed on request (Chandy & Misra 1984)
//   polite_retry        livelock: put the left fork back when the right one is taken, retry in
//                       lockstep forever
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterDiningPhilosophers(Catalogue& catalogue);
}  // namespace problems
