// properties/models.h: sequential models of common concurrent objects, for the linearizability
// checker (properties/linearizability.h) and the lincheck harness (properties/lincheck.h).
//
// Operation names and results each model understands:
//   RegisterModel  write(v)            read() -> v                        (initial 0)
//   CounterModel   add(d) -> previous  get() -> value                     (initial 0)
//   QueueModel     push(v)             pop() -> v | empty    size() -> n  (FIFO, unbounded)
//   StackModel     push(v)             pop() -> v | empty    size() -> n  (LIFO, unbounded)
//   MapModel       put(k, v)           get(k) -> v | empty   erase(k) -> bool   (per key)
// An operation a model does not know is a programming error: the step throws std::logic_error.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "properties/linearizability.h"

namespace properties {

// Hash of a sequence of integers (the state of a queue or a stack).
struct Int64VectorHash {
  size_t operator()(const std::vector<std::int64_t>& v) const;
};

using IntModel = Model<std::int64_t>;
using SequenceModel = Model<std::vector<std::int64_t>, Int64VectorHash>;
using OptionalIntModel = Model<std::optional<std::int64_t>>;

IntModel RegisterModel();
IntModel CounterModel();
SequenceModel QueueModel();
SequenceModel StackModel();
// Partitioned by key (P-compositionality): each key is a register that may be absent.
OptionalIntModel MapModel();

}  // namespace properties
