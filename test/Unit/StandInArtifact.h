//===- StandInArtifact.h - artifacts over the stand-in kernels ---*- C++
//-*-===//
//
// Writes artifacts whose code section is one of the stand-in shared objects
// (Inputs/add_kernel.c, Inputs/chunk_failure_kernel.cpp) and opens them.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TEST_UNIT_STANDINARTIFACT_H
#define ANVIL_TEST_UNIT_STANDINARTIFACT_H

#include "anvil/anvil.h"
#include "anvil/artifact.h"

#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <string>
#include <vector>

namespace anvil::test {

inline std::vector<unsigned char> readBytes(const char *path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

/// The weights section: the `w` of add_kernel.c's y = a + b + w.
inline const float kStandInWeights[6] = {10, 20, 30, 40, 50, 60};

/// An artifact of `manifest`, the code section `code` and the stand-in
/// weights.
inline std::vector<unsigned char>
standInArtifact(const std::string &manifest,
                const std::vector<unsigned char> &code) {
  using namespace anvil::artifact;
  std::vector<unsigned char> out;
  std::string error;
  EXPECT_TRUE(writeArtifact(
      "cpu",
      {{SectionKind::Manifest, "manifest", manifest.data(), manifest.size()},
       {SectionKind::Code, "code", code.data(), code.size()},
       {SectionKind::Weights, "weights", kStandInWeights,
        sizeof(kStandInWeights), kPageAlignment}},
      out, error))
      << error;
  return out;
}

/// The same with the shared object at `codePath` as the code section.
inline std::vector<unsigned char>
standInArtifact(const std::string &manifest,
                const char *codePath = ANVIL_TEST_ADD_KERNEL) {
  return standInArtifact(manifest, readBytes(codePath));
}

/// Opens `bytes` with `options`; returns the failure message ("" on
/// success) and its code.
inline std::string openModel(const std::vector<unsigned char> &bytes,
                             const anvil_model_options *options,
                             anvil_model **model,
                             anvil_status_code *code = nullptr) {
  anvil_status status =
      anvil_model_open_memory(bytes.data(), bytes.size(), options, model);
  std::string message = anvil_status_get_message(status);
  if (code)
    *code = anvil_status_get_code(status);
  anvil_status_free(status);
  return message;
}

/// The message of `status` ("" for success), freeing it.
inline std::string takeMessage(anvil_status status) {
  std::string message = anvil_status_get_message(status);
  anvil_status_free(status);
  return message;
}

} // namespace anvil::test

#endif // ANVIL_TEST_UNIT_STANDINARTIFACT_H
