//===- NpyReadFuzzer.cpp - libFuzzer entry for anvil-run's .npy reader ----===//
//
// Any byte string must be refused with a message naming the file, or read
// as an array whose data size is exactly its shape's: never a crash, an
// abort, an uncaught exception, deep recursion or an overread. An accepted
// array is written back and read again, and must come back the same.
//   anvil-npy-fuzzer -max_total_time=600 CORPUS_DIR
//
//===----------------------------------------------------------------------===//

#include "../../tools/anvil-run/Npy.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

[[noreturn]] void fail(const char *why) {
  std::fprintf(stderr, "npy fuzzer: %s\n", why);
  std::abort();
}

/// A scratch file for the write-back check, one per fuzzing process,
/// removed when the process exits.
const std::string &scratchPath() {
  static const std::string path =
      "/tmp/anvil-npy-fuzzer-" + std::to_string(::getpid()) + ".npy";
  static const bool cleanup =
      std::atexit([] { std::remove(scratchPath().c_str()); }) == 0;
  (void)cleanup;
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  anvil::npy::Array array;
  std::string error;
  if (!anvil::npy::parse(data, size, "input.npy", array, error)) {
    if (error.find("'input.npy'") == std::string::npos)
      fail("an error that does not name the file");
    return 0;
  }
  if (array.shape.size() > ANVIL_MAX_RANK)
    fail("a rank above ANVIL_MAX_RANK was accepted");
  uint64_t elements = 1;
  for (int64_t dim : array.shape) {
    if (dim < 0)
      fail("a negative dimension was accepted");
    elements *= static_cast<uint64_t>(dim); // bounded: the data is in memory
  }
  if (elements * anvil_dtype_size(array.dtype) != array.data.size())
    fail("the data size differs from the shape's");
  if (!anvil::npy::write(scratchPath(), array.dtype, array.shape,
                         array.data.data(), array.data.size(), error))
    fail("an accepted array could not be written back");
  anvil::npy::Array again;
  if (!anvil::npy::read(scratchPath(), again, error))
    fail("a written array could not be read again");
  if (again.dtype != array.dtype || again.shape != array.shape ||
      again.data != array.data)
    fail("an array changed on the way through write and read");
  return 0;
}
