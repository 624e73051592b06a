// The demo target for the planted header bug (planted_header.h): the same harness shape as
// fuzz/shm_header_fuzzer.cc (bytes copied into a heap block of exactly their size, so ASan sees
// a read past the end), calling the planted copy instead of ipc::shm::ValidateHeader.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "fuzz/planted/planted_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<std::byte[]> block(new std::byte[size]);
  if (size > 0) std::memcpy(block.get(), data, size);
  (void)ipc::shm::planted::ValidateHeaderPlanted({block.get(), size});
  return 0;
}
