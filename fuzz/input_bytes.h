// fuzz/input_bytes.h: reads a fuzzer's input as a sequence of little-endian numbers, giving 0
// once the input is used up (so every input decodes to something, and a short one ends early).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ipclab_fuzz {

struct InputBytes {
  const uint8_t* p;  // next byte
  size_t n;  // bytes left

  uint8_t Byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint32_t U32() { return static_cast<uint32_t>(Little(4)); }
  uint64_t U64() { return Little(8); }

 private:
  uint64_t Little(int bytes) {  // one statement per byte: the order of reads is fixed
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{Byte()} << (8 * i);
    return v;
  }
};

}  // namespace ipclab_fuzz
