//===- ArtifactParseFuzzer.cpp - libFuzzer entry for the artifact parser --===//
//
// Any byte string must be rejected with a message or accepted as a view
// whose sections all lie inside the input: never a crash or an overread.
//   anvil-artifact-fuzzer -max_total_time=600 CORPUS_DIR
//
//===----------------------------------------------------------------------===//

#include "anvil/artifact.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto view = anvil::artifact::ArtifactView::parse(data, size, {}, error);
  if (!view)
    return error.empty() ? (std::abort(), 0) : 0;
  for (const auto &section : view->sections()) {
    if (section.data < data || section.data + section.size > data + size) {
      std::fprintf(stderr, "section outside the input\n");
      std::abort();
    }
    // Touch every byte so ASan sees any overread.
    volatile unsigned char sink = 0;
    for (uint64_t i = 0; i < section.size; ++i)
      sink ^= section.data[i];
  }
  return 0;
}
