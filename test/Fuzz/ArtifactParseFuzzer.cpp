//===- ArtifactParseFuzzer.cpp - libFuzzer entry for the artifact loader --===//
//
// Any byte string must be refused with a message or accepted, by the
// container reader, the manifest parser, `anvil-run info`'s printer and the
// whole loader (anvil_model_open_memory): never a crash, an abort, a hang or
// an overread. Each input is tried twice: as it is (checksums, truncation),
// and resealed, with the file size and the checksums of the header, the
// table and every section but the code recomputed, so that mutations of
// the manifest, the weights and the table reach the loader's semantic
// checks instead of stopping at a checksum. When a resealed input loads,
// every entry point runs on zero-filled inputs of the declared shapes (each
// run-time size at its minimum) with outputs that end at a guard page: a
// manifest that disagrees with the code and got past the code's record
// would make the code touch memory past its buffers and fault.
//
// Mutated code must not reach the dynamic loader, which runs code (and is
// no parser of hostile ELF files); loading code is trusting it
// (docs/security.md). The code section's checksum is never recomputed, but
// that is no guard: libFuzzer's comparison feedback solves the checksum
// comparison and writes the right value into the table. So the loader is
// only called on inputs whose code section is byte for byte one of the
// trusted artifacts' (the seeds named in ANVIL_FUZZ_TRUSTED_ARTIFACTS,
// colon-separated); other inputs are still parsed and printed.
//   ANVIL_FUZZ_TRUSTED_ARTIFACTS=a.anvil:b.anvil \
//     anvil-artifact-fuzzer -max_total_time=600 CORPUS_DIR
//
//===----------------------------------------------------------------------===//

#include "../../runtime/src/Manifest.h"
#include "../../tools/anvil-run/ArtifactInfo.h"
#include "anvil/anvil.h"
#include "anvil/artifact.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace anvil::artifact;

namespace {

/// Buffers larger than this are not run (the loader's limits are far
/// higher; a fuzzing run should not spend its memory on one input).
constexpr size_t kMaxRunBytes = size_t(64) << 20;

[[noreturn]] void failWith(const char *what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

/// `data` with its file size, its header and table checksums and the
/// checksum of every section except the code recomputed, where the header
/// and table are in bounds enough to find them.
std::vector<unsigned char> reseal(const uint8_t *data, size_t size) {
  std::vector<unsigned char> bytes(data, data + size);
  if (size < sizeof(FileHeader))
    return bytes;
  FileHeader header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  header.fileSize = size;
  uint64_t tableBytes = uint64_t(header.sectionCount) * sizeof(SectionEntry);
  if (header.sectionCount <= kMaxSections &&
      header.sectionTableOffset <= size &&
      tableBytes <= size - header.sectionTableOffset) {
    unsigned char *table = bytes.data() + header.sectionTableOffset;
    for (uint32_t i = 0; i < header.sectionCount; ++i) {
      SectionEntry entry;
      std::memcpy(&entry, table + i * sizeof(entry), sizeof(entry));
      if (entry.kind == static_cast<uint32_t>(SectionKind::Code) ||
          entry.offset > size || entry.size > size - entry.offset)
        continue;
      entry.checksum = crc32c(bytes.data() + entry.offset, entry.size);
      std::memcpy(table + i * sizeof(entry), &entry, sizeof(entry));
    }
    header.tableChecksum = crc32c(table, tableBytes);
  }
  header.headerChecksum = crc32c(&header, offsetof(FileHeader, headerChecksum));
  std::memcpy(bytes.data(), &header, sizeof(header));
  return bytes;
}

/// Container, manifest parser and info printer on `data`: each must accept
/// or refuse with a message.
void checkReaders(const unsigned char *data, size_t size, bool verify) {
  std::string error;
  ParseOptions options;
  options.verifySectionChecksums = verify;
  auto view = ArtifactView::parse(data, size, options, error);
  if (!view) {
    if (error.empty())
      failWith("a refusal without a message");
    return;
  }
  for (const SectionView &section : view->sections()) {
    if (section.data < data || section.data + section.size > data + size)
      failWith("section outside the input");
    // Touch every byte so ASan sees any overread.
    volatile unsigned char sink = 0;
    for (uint64_t i = 0; i < section.size; ++i)
      sink ^= section.data[i];
  }
  const SectionView *manifest = view->find(SectionKind::Manifest);
  anvil::runtime::Manifest parsed;
  error.clear();
  if (!anvil::runtime::parseManifest(
          std::string(reinterpret_cast<const char *>(manifest->data),
                      manifest->size),
          parsed, error) &&
      error.empty())
    failWith("a manifest refused without a message");
  // anvil-run info, text and JSON, into a stream that drops the output.
  std::ostream discard(nullptr);
  for (bool json : {false, true}) {
    error.clear();
    if (!anvil::tools::printArtifactInfo(data, size, "fuzz.anvil", json, verify,
                                         discard, error) &&
        error.empty())
      failWith("info failed without a message");
  }
}

/// Memory whose last byte is followed by an inaccessible page (64-byte
/// aligned at the start, so an overrun of more than 63 bytes faults).
class GuardedBuffer {
public:
  explicit GuardedBuffer(size_t bytes) {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    length = (bytes + page - 1) / page * page + page;
    void *p = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      failWith("cannot map a guarded buffer");
    base = static_cast<unsigned char *>(p);
    unsigned char *guard = base + length - page;
    mprotect(guard, page, PROT_NONE);
    data = guard - (bytes + 63) / 64 * 64;
  }
  GuardedBuffer(const GuardedBuffer &) = delete;
  GuardedBuffer &operator=(const GuardedBuffer &) = delete;
  ~GuardedBuffer() { munmap(base, length); }
  unsigned char *data = nullptr;

private:
  unsigned char *base = nullptr;
  size_t length = 0;
};

/// A tensor of `info`'s shape (sizes at their minima) over guarded, zeroed
/// memory, or null when it is too large to run.
struct GuardedTensor {
  std::unique_ptr<GuardedBuffer> buffer;
  anvil_tensor *tensor = nullptr;
  ~GuardedTensor() { anvil_tensor_release(tensor); }
};

bool makeTensor(anvil_model *model, const char *entry, int isOutput,
                size_t index, GuardedTensor &out) {
  anvil_tensor_info info;
  if (anvil_status s =
          anvil_model_tensor_info(model, entry, isOutput, index, &info)) {
    anvil_status_free(s);
    failWith("a loaded model cannot describe its own tensor");
  }
  uint64_t elements = 1;
  for (size_t d = 0; d < info.rank; ++d) {
    int64_t dim = info.dims[d];
    if (dim < 0) {
      int64_t which = -1;
      anvil_size_info size;
      if (anvil_status s =
              anvil_model_dim_size(model, entry, isOutput, index, d, &which)) {
        anvil_status_free(s);
        failWith("a run-time dim without a size");
      }
      if (anvil_status s = anvil_model_size_info(
              model, entry, static_cast<size_t>(which), &size)) {
        anvil_status_free(s);
        failWith("a size without bounds");
      }
      dim = info.dims[d] = size.min;
    }
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(dim), &elements))
      return false;
  }
  uint64_t bits = 0;
  if (__builtin_mul_overflow(elements, anvil_dtype_bits(info.dtype), &bits) ||
      bits / 8 > kMaxRunBytes)
    return false;
  size_t bytes = static_cast<size_t>((bits + 7) / 8);
  out.buffer = std::make_unique<GuardedBuffer>(bytes);
  if (anvil_status s =
          anvil_tensor_wrap(info.dtype, info.rank, info.dims, out.buffer->data,
                            bytes, &out.tensor)) {
    anvil_status_free(s);
    failWith("cannot wrap a tensor of the model's own signature");
  }
  return true;
}

/// The code sections of the artifacts in ANVIL_FUZZ_TRUSTED_ARTIFACTS.
std::vector<std::string> &trustedCode() {
  static std::vector<std::string> code;
  return code;
}

void loadTrustedCode() {
  const char *list = std::getenv("ANVIL_FUZZ_TRUSTED_ARTIFACTS");
  std::string paths = list ? list : "";
  size_t start = 0;
  while (start <= paths.size() && !paths.empty()) {
    size_t end = paths.find(':', start);
    std::string path = paths.substr(start, end - start);
    start = end == std::string::npos ? paths.size() + 1 : end + 1;
    if (path.empty())
      continue;
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    std::string error;
    auto view = ArtifactView::parse(bytes.data(), bytes.size(), {}, error);
    const SectionView *code = view ? view->find(SectionKind::Code) : nullptr;
    if (!code) {
      std::fprintf(stderr,
                   "ANVIL_FUZZ_TRUSTED_ARTIFACTS: '%s' is not an "
                   "artifact with a code section\n",
                   path.c_str());
      std::exit(2);
    }
    trustedCode().emplace_back(reinterpret_cast<const char *>(code->data),
                               code->size);
  }
}

/// Whether the loader may see `data`: its code section (if it parses and
/// has one) is one of the trusted ones. An input that does not parse is
/// refused by the loader before any code is loaded.
bool mayLoad(const unsigned char *data, size_t size) {
  std::string error;
  auto view = ArtifactView::parse(data, size, {}, error);
  if (!view)
    return true;
  const SectionView *code = view->find(SectionKind::Code);
  if (!code)
    return true;
  for (const std::string &trusted : trustedCode())
    if (trusted.size() == code->size &&
        !std::memcmp(trusted.data(), code->data, code->size))
      return true;
  return false;
}

/// Runs every entry point of `model` on zero inputs of its signature.
void runEntryPoints(anvil_model *model) {
  for (size_t e = 0; e < anvil_model_entry_point_count(model); ++e) {
    const char *entry = anvil_model_entry_point_name(model, e);
    size_t inputCount = 0, outputCount = 0;
    if (anvil_status s =
            anvil_model_signature(model, entry, &inputCount, &outputCount)) {
      anvil_status_free(s);
      failWith("a loaded entry point without a signature");
    }
    std::vector<GuardedTensor> inputs(inputCount), outputs(outputCount);
    std::vector<anvil_tensor *> in, out;
    bool runnable = true;
    for (size_t i = 0; i < inputCount && runnable; ++i) {
      runnable = makeTensor(model, entry, 0, i, inputs[i]);
      in.push_back(inputs[i].tensor);
    }
    for (size_t i = 0; i < outputCount && runnable; ++i) {
      runnable = makeTensor(model, entry, 1, i, outputs[i]);
      out.push_back(outputs[i].tensor);
    }
    if (!runnable)
      continue;
    anvil_status s = anvil_model_run(model, entry, in.data(), in.size(),
                                     out.data(), out.size());
    if (s && !anvil_status_get_message(s)[0])
      failWith("a run failed without a message");
    anvil_status_free(s);
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  loadTrustedCode();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // As it is: the checksums, the truncation and size checks.
  checkReaders(data, size, /*verify=*/true);
  checkReaders(data, size, /*verify=*/false);
  std::vector<unsigned char> resealed = reseal(data, size);
  checkReaders(resealed.data(), resealed.size(), /*verify=*/true);

  // The whole loader, one thread (deterministic and quick to start), on
  // inputs whose code is trusted.
  if (!mayLoad(resealed.data(), resealed.size()))
    return 0;
  anvil_model_options options{};
  options.num_threads = 1;
  anvil_model *model = nullptr;
  anvil_status status = anvil_model_open_memory(
      resealed.data(), resealed.size(), &options, &model);
  if (status) {
    if (!anvil_status_get_message(status)[0])
      failWith("a load refused without a message");
    anvil_status_free(status);
    return 0;
  }
  runEntryPoints(model);
  anvil_model_release(model);
  return 0;
}
