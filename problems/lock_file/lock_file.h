// problems/lock_file: from the course's file-based producer/consumer. Two processes take turns
// appending to a shared file, using the existence of a lock file as the lock. The file system is
// modelled with lab atomics (each system call is atomic on its own, as the kernel makes it).
//
//   check_then_create  assertion-failure: `if (!exists(lock)) create(lock)` — both processes see
//                      no lock file, both create it (O_CREAT without O_EXCL succeeds twice), both
//                      append at once
//   o_excl             correct: open(O_CREAT | O_EXCL) checks and creates in one step
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterLockFile(Catalogue& catalogue);
}  // namespace problems
