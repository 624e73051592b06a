// problems/producer_consumer: the bounded buffer, correct and buggy.
//
// Producers put numbered items into a buffer of kCapacity slots; consumers take them out. Every
// variant checks that what comes out is exactly what went in (each item once, none invented).
//
//   semaphores                 correct: `empty` counts free slots, `full` counts items, `mutex`
//                              guards the indices (Dijkstra)
//   monitor                    correct: one mutex, two condition variables, `while` around waits
//   no_mutex                   data-race: two producers update `tail` at once
//   mutex_before_empty         deadlock: a producer holds `mutex` while waiting for a free slot
//   if_instead_of_while        assertion-failure: a woken consumer takes from an empty buffer
//   notify_before_state_change lost-wakeup: the producer notifies before it puts the item
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterProducerConsumer(Catalogue& catalogue);
}  // namespace problems
