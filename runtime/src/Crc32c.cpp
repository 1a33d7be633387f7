//===- Crc32c.cpp - CRC-32C for artifact checksums ------------------------===//
//
// CRC-32C (Castagnoli polynomial 0x82F63B78, reflected), the checksum iSCSI
// and ext4 use. x86-64 CPUs with SSE4.2 compute it in hardware at several
// GB/s, which matters for multi-gigabyte weight sections.
//
//===----------------------------------------------------------------------===//

#include "anvil/artifact_format.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace anvil::artifact {
namespace {

std::array<uint32_t, 256> makeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

uint32_t crc32cSoftware(const unsigned char *p, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = makeTable();
  for (size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t
crc32cHardware(const unsigned char *p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p)
    c32 = _mm_crc32_u8(c32, *p);
  return c32;
}
#endif

} // namespace

uint32_t crc32cPortable(const void *data, size_t size, uint32_t crc) {
  return ~crc32cSoftware(static_cast<const unsigned char *>(data), size, ~crc);
}

uint32_t crc32c(const void *data, size_t size, uint32_t crc) {
  const auto *p = static_cast<const unsigned char *>(data);
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hasSse42 = __builtin_cpu_supports("sse4.2");
  crc = hasSse42 ? crc32cHardware(p, size, crc) : crc32cSoftware(p, size, crc);
#else
  crc = crc32cSoftware(p, size, crc);
#endif
  return ~crc;
}

} // namespace anvil::artifact
