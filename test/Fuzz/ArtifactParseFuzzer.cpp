//===- ArtifactParseFuzzer.cpp - libFuzzer entry for the artifact loader --===//
//
// Any byte string must be rejected with a message or accepted as a view
// whose sections all lie inside the input, and the manifest parser must
// accept or reject whatever manifest section it finds: never a crash, an
// abort or an overread. Then the whole loader (anvil_model_open_memory,
// checksums verified) must open or refuse it with a status: an input that
// passes every checksum (in practice, an unmodified seed such as a compiled
// artifact) is loaded for real, code section included; mutated code never
// reaches the dynamic loader, because its section checksum fails.
//   anvil-artifact-fuzzer -max_total_time=600 CORPUS_DIR
//
//===----------------------------------------------------------------------===//

#include "../../runtime/src/Manifest.h"
#include "anvil/anvil.h"
#include "anvil/artifact.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  // Verify checksums once (that path must be safe too), then parse without
  // them, so mutated manifests reach the manifest parser instead of
  // stopping at their section's checksum.
  (void)anvil::artifact::ArtifactView::parse(data, size, {}, error);
  error.clear();
  anvil::artifact::ParseOptions unchecked;
  unchecked.verifySectionChecksums = false;
  auto view =
      anvil::artifact::ArtifactView::parse(data, size, unchecked, error);
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
  const auto *manifest = view->find(anvil::artifact::SectionKind::Manifest);
  anvil::runtime::Manifest parsed;
  std::string manifestError;
  if (!anvil::runtime::parseManifest(
          std::string(reinterpret_cast<const char *>(manifest->data),
                      manifest->size),
          parsed, manifestError) &&
      manifestError.empty())
    std::abort();

  anvil_model *model = nullptr;
  anvil_status status = anvil_model_open_memory(data, size, nullptr, &model);
  if (status) {
    if (!anvil_status_get_message(status)[0])
      std::abort(); // a refusal must say why
    anvil_status_free(status);
  }
  anvil_model_release(model);
  return 0;
}
