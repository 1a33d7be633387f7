//===- ArtifactInfo.cpp - what anvil-run info prints ----------------------===//
//
// Reads only the container and the manifest: never the code section's
// content, never dlopen (docs/security.md: loading code runs it). The
// artifact fuzzer calls this too, so every input it makes reaches it.
//
//===----------------------------------------------------------------------===//

#include "ArtifactInfo.h"

#include "anvil/artifact.h"
#include "anvil/artifact_signature.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

using namespace anvil::artifact;

namespace anvil::tools {
namespace {

/// Text is printed even when a string holds bytes that are not UTF-8
/// (built without exceptions, the default handler would abort).
constexpr auto kReplaceBadUtf8 = nlohmann::json::error_handler_t::replace;

/// "f32[Sx4]" from a manifest tensor; "?" for what is not well-formed (the
/// manifest is input: info prints what it can and never aborts).
std::string describeTensor(const nlohmann::json &tensor) {
  std::string text;
  auto dtype = tensor.find("dtype");
  text += dtype != tensor.end() && dtype->is_string()
              ? dtype->get<std::string>()
              : "?";
  text += "[";
  auto shape = tensor.find("shape");
  if (shape != tensor.end() && shape->is_array()) {
    bool first = true;
    for (const nlohmann::json &dim : *shape) {
      text += first ? "" : "x";
      first = false;
      if (dim.is_number_integer())
        text += std::to_string(dim.get<int64_t>());
      else if (dim.is_string())
        text += dim.get<std::string>();
      else
        text += "?";
    }
  }
  return text + "]";
}

/// Each entry point's signature, with run-time sizes by name and bounds:
///   main (sizes: S in [1, 512])
///     input  ids: i64[1xS]
void printSignatures(const nlohmann::json &manifest, std::ostream &os) {
  auto entries = manifest.find("entry_points");
  if (entries == manifest.end() || !entries->is_array() || entries->empty())
    return;
  os << "entry points:\n";
  auto text = [](const nlohmann::json &object, const char *key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>()
                                                 : std::string("?");
  };
  for (const nlohmann::json &entry : *entries) {
    if (!entry.is_object())
      continue;
    os << "  " << text(entry, "name");
    auto sizes = entry.find("sizes");
    if (sizes != entry.end() && sizes->is_array() && !sizes->empty()) {
      os << " (sizes:";
      bool first = true;
      for (const nlohmann::json &size : *sizes) {
        if (!size.is_object())
          continue;
        auto min = size.find("min"), max = size.find("max");
        auto bound = [&](nlohmann::json::const_iterator it) {
          return it != size.end() && it->is_number_integer()
                     ? std::to_string(it->get<int64_t>())
                     : std::string("?");
        };
        os << (first ? " " : ", ") << text(size, "name") << " in ["
           << bound(min) << ", " << bound(max) << "]";
        first = false;
      }
      os << ")";
    }
    os << "\n";
    for (const char *kind : {"inputs", "outputs", "states"}) {
      auto list = entry.find(kind);
      if (list == entry.end() || !list->is_array())
        continue;
      for (const nlohmann::json &tensor : *list)
        if (tensor.is_object())
          os << "    "
             << (kind[0] == 'i'   ? "input  "
                 : kind[0] == 'o' ? "output "
                                  : "state  ")
             << text(tensor, "name") << ": " << describeTensor(tensor) << "\n";
    }
  }
  // A paged decoder's facts for the engine (manifest "llm").
  auto llm = manifest.find("llm");
  if (llm == manifest.end() || !llm->is_object())
    return;
  auto number = [&](const char *key) {
    auto it = llm->find(key);
    return it != llm->end() && it->is_number_integer()
               ? std::to_string(it->get<int64_t>())
               : std::string("?");
  };
  // The pools' element type, from the step's states: f32, f16, or i8 with
  // a kv_scales.* state per pool (anvilc --kv-dtype).
  std::string poolType = "?";
  bool scaled = false;
  for (const nlohmann::json &entry : *entries) {
    auto states = entry.is_object() ? entry.find("states") : entry.end();
    if (!entry.is_object() || text(entry, "name") != text(*llm, "entry") ||
        states == entry.end() || !states->is_array())
      continue;
    for (const nlohmann::json &state : *states) {
      if (!state.is_object())
        continue;
      std::string name = text(state, "name");
      if (name.rfind("kv_pool.", 0) == 0 && poolType == "?")
        poolType = text(state, "dtype");
      scaled = scaled || name.rfind("kv_scales.", 0) == 0;
    }
  }
  os << "paged decoder (anvil-run generate): step '" << text(*llm, "entry")
     << "', vocabulary " << number("vocab_size") << ", context "
     << number("max_context") << ", KV blocks of " << number("block_size")
     << " positions, " << number("num_pools") << " " << poolType << " pools of "
     << number("kv_heads") << " heads x " << number("head_dim")
     << (scaled ? " (with an f32 scale per position and head)" : "") << "\n";
}

} // namespace

bool printArtifactInfo(const unsigned char *data, size_t size,
                       const std::string &path, bool json, bool verify,
                       std::ostream &os, std::string &error) {
  ParseOptions options;
  options.verifySectionChecksums = verify;
  auto view = ArtifactView::parse(data, size, options, error);
  if (!view)
    return false;
  const SectionView *manifestSection = view->find(SectionKind::Manifest);
  std::string manifestText(
      reinterpret_cast<const char *>(manifestSection->data),
      manifestSection->size);
  nlohmann::json manifest =
      nlohmann::json::parse(manifestText, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded()) {
    error = "the manifest section is not valid JSON";
    return false;
  }

  const FileHeader &h = view->header();
  std::string sha256 = sha256Hex(data, size);
  // Who signed it, as the signature section says (unchecked: info never
  // verifies a signature; `anvil-run --require-signature` does).
  std::string signer;
  if (const SectionView *signature = view->find(SectionKind::Signature))
    if (signature->size == kSignatureSectionSize)
      for (size_t i = 0; i < kPublicKeySize; ++i) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", signature->data[i]);
        signer += hex;
      }
  if (json) {
    nlohmann::json out;
    out["format_version"] = h.formatVersion;
    out["abi_version"] = h.abiVersion;
    out["target"] = view->target();
    out["file_size"] = h.fileSize;
    out["sha256"] = sha256;
    if (!signer.empty())
      out["signed_by"] = signer;
    out["sections"] = nlohmann::json::array();
    for (const SectionView &s : view->sections())
      out["sections"].push_back({{"kind", sectionKindName(s.kind)},
                                 {"name", s.name},
                                 {"offset", s.data - data},
                                 {"size", s.size},
                                 {"alignment", s.alignment}});
    out["manifest"] = manifest;
    os << out.dump(2, ' ', false, kReplaceBadUtf8) << "\n";
    return true;
  }
  os << path << ": Anvil artifact, format " << h.formatVersion << ", ABI "
     << h.abiVersion << ", target " << view->target() << ", " << h.fileSize
     << " bytes" << (verify ? "" : " (section checksums not verified)") << "\n";
  os << "sha256: " << sha256 << "\n";
  if (!signer.empty())
    os << "signed by: " << signer << " (not verified)\n";
  os << "sections:\n";
  for (const SectionView &s : view->sections()) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "  %-10s %-16s offset %10lld  size %12llu  align %llu\n",
                  sectionKindName(s.kind), ("'" + s.name + "'").c_str(),
                  static_cast<long long>(s.data - data),
                  static_cast<unsigned long long>(s.size),
                  static_cast<unsigned long long>(s.alignment));
    os << line;
  }
  printSignatures(manifest, os);
  os << "manifest:\n" << manifest.dump(2, ' ', false, kReplaceBadUtf8) << "\n";
  return true;
}

} // namespace anvil::tools
