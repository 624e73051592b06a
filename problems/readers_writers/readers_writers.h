// problems/readers_writers: readers share the data, a writer needs it alone.
//
// Two readers and two writers each run kRounds rounds in virtual time: a reader reads for 3 ms
// and thinks for 1 ms, the second of each kind starting 2 ms after the first, so there is always
// someone of each kind who wants in. That steady demand is what exposes starvation: which side
// the protocol lets in decides who waits forever.
//
//   reader_preference        starvation: readers overlap, readcount never drops to 0, writers
//                            wait (Courtois, Heymans, Parnas 1971, problem 1)
//   writer_preference        starvation: writers queue behind each other, readers wait (problem 2)
//   fair                     correct: tickets in arrival order; consecutive readers share
//   readcount_without_mutex  data-race: readers update readcount without its mutex
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterReadersWriters(Catalogue& catalogue);
}  // namespace problems
