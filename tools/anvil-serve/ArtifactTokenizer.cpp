//===- ArtifactTokenizer.cpp - the tokenizer section of an artifact -------===//

#include "ArtifactTokenizer.h"

#include "anvil/artifact.h"

#include <sys/mman.h>
#include <unistd.h>

namespace anvil::serve {

bool loadArtifactTokenizer(const std::string &path,
                           std::unique_ptr<tokenizer::Tokenizer> &out,
                           std::string &error) {
  using namespace anvil::artifact;
  out.reset();
  uint64_t size = 0;
  int fd = openArtifactFile(path.c_str(), size, error);
  if (fd < 0)
    return false;
  // Mapped, not read: only the header, the section table and the
  // tokenizer's pages are touched, not the weights.
  void *data =
      size ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  close(fd);
  if (data == MAP_FAILED) {
    error = path + ": cannot map the artifact";
    return false;
  }
  ParseOptions options;
  options.verifySectionChecksums = false;
  bool ok = true;
  auto view = ArtifactView::parse(static_cast<const unsigned char *>(data),
                                  size, options, error);
  if (!view) {
    error = path + ": " + error;
    ok = false;
  } else if (const SectionView *section = view->find(SectionKind::Tokenizer)) {
    // Tokenizer::load copies what it keeps, so the mapping can go.
    std::string_view bytes(reinterpret_cast<const char *>(section->data),
                           section->size);
    if (anvil_status status = tokenizer::Tokenizer::load(bytes, out)) {
      error =
          path + ": the tokenizer section: " + anvil_status_get_message(status);
      anvil_status_free(status);
      ok = false;
    }
  }
  munmap(data, size);
  return ok;
}

} // namespace anvil::serve
