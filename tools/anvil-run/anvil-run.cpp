//===- anvil-run.cpp - inspect and run .anvil artifacts -------------------===//
//
//   anvil-run info MODEL.anvil [--json] [--no-verify]
//
// Running entry points (`anvil-run MODEL.anvil --input NAME=file.npy`)
// arrives with the runtime's executor (issue #4).
//
//===----------------------------------------------------------------------===//

#include "anvil/artifact.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

using namespace anvil::artifact;

namespace {

constexpr const char *kUsage =
    "usage: anvil-run info MODEL.anvil [--json] [--no-verify]\n"
    "\n"
    "  info         print the artifact's header, sections and manifest\n"
    "  --json       print them as one JSON object\n"
    "  --no-verify  skip the section checksums (the header and section\n"
    "               table are always checked)\n";

int fail(const std::string &message) {
  std::cerr << "anvil-run: error: " << message << "\n";
  return 1;
}

bool readFile(const std::string &path, std::vector<unsigned char> &bytes,
              std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  return true;
}

int info(const std::string &path, bool json, bool verify) {
  std::vector<unsigned char> bytes;
  std::string error;
  if (!readFile(path, bytes, error))
    return fail(error);
  ParseOptions options;
  options.verifySectionChecksums = verify;
  auto view = ArtifactView::parse(bytes.data(), bytes.size(), options, error);
  if (!view)
    return fail(path + ": " + error);
  const SectionView *manifestSection = view->find(SectionKind::Manifest);
  std::string manifestText(
      reinterpret_cast<const char *>(manifestSection->data),
      manifestSection->size);
  nlohmann::json manifest =
      nlohmann::json::parse(manifestText, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded())
    return fail(path + ": the manifest section is not valid JSON");

  const FileHeader &h = view->header();
  if (json) {
    nlohmann::json out;
    out["format_version"] = h.formatVersion;
    out["abi_version"] = h.abiVersion;
    out["target"] = view->target();
    out["file_size"] = h.fileSize;
    out["sections"] = nlohmann::json::array();
    for (const SectionView &s : view->sections())
      out["sections"].push_back({{"kind", sectionKindName(s.kind)},
                                 {"name", s.name},
                                 {"offset", s.data - bytes.data()},
                                 {"size", s.size},
                                 {"alignment", s.alignment}});
    out["manifest"] = manifest;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << path << ": Anvil artifact, format " << h.formatVersion
            << ", ABI " << h.abiVersion << ", target " << view->target() << ", "
            << h.fileSize << " bytes"
            << (verify ? "" : " (section checksums not verified)") << "\n";
  std::cout << "sections:\n";
  for (const SectionView &s : view->sections()) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "  %-10s %-16s offset %10lld  size %12llu  align %llu\n",
                  sectionKindName(s.kind), ("'" + s.name + "'").c_str(),
                  static_cast<long long>(s.data - bytes.data()),
                  static_cast<unsigned long long>(s.size),
                  static_cast<unsigned long long>(s.alignment));
    std::cout << line;
  }
  std::cout << "manifest:\n" << manifest.dump(2) << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  if (args[0] != "info")
    return fail("running artifacts is not available yet (it comes with the "
                "runtime's executor); try 'anvil-run info MODEL.anvil'\n" +
                std::string(kUsage));
  std::string path;
  bool json = false, verify = true;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--json")
      json = true;
    else if (args[i] == "--no-verify")
      verify = false;
    else if (!args[i].empty() && args[i][0] == '-')
      return fail("unknown option '" + args[i] + "'\n" + kUsage);
    else if (path.empty())
      path = args[i];
    else
      return fail("more than one artifact given");
  }
  if (path.empty())
    return fail(std::string("no artifact given\n") + kUsage);
  return info(path, json, verify);
}
