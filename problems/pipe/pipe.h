// problems/pipe: from the course's pipe exercise. The parent creates a pipe, forks a child that
// reads numbers until end-of-file and sums them, writes the numbers, and waits for the child.
// A pipe reports end-of-file only when every write end is closed, in every process: after fork()
// both parent and child hold one.
//
//   close_unused_ends       correct: the child closes its copy of the write end at once; the
//                           parent closes its own after writing, then waits
//   parent_keeps_write_end  deadlock: the parent waits for the child with its write end still
//                           open; the child waits for end-of-file (on real processes: a hang)
//   child_keeps_write_end   deadlock: the child never closes the copy it inherited, so it waits
//                           for end-of-file from itself
//
// The pipe is modelled (problems/model/mailbox.h) so the lab can explore it; pipe_process.h runs the
// same program on real processes, where the buggy variants hang (pipe_process_test.cc).
#pragma once

#include "problems/catalogue.h"

namespace problems {
void RegisterPipe(Catalogue& catalogue);
}  // namespace problems
