//===- anvil-run.cpp - inspect and run .anvil artifacts -------------------===//
//
//   anvil-run info MODEL.anvil [--json] [--no-verify]
//   anvil-run generate MODEL.anvil --prompt TEXT [sampling options]
//   anvil-run MODEL.anvil [--entry NAME] --input NAME=FILE.npy ...
//             [--output-dir DIR] [--no-verify] [--require-signature PUB]
//
// Links only the runtime: what it can do, an embedding application can.
//
//===----------------------------------------------------------------------===//

#include "ArtifactInfo.h"
#include "Generate.h"
#include "Npy.h"
#include "RegularFile.h"

#include "anvil/anvil.hpp"
#include "anvil/artifact.h"
#include "anvil/artifact_signature.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace anvil::artifact;
namespace npy = anvil::npy;

namespace {

constexpr const char *kUsage =
    "usage: anvil-run info MODEL.anvil [--json] [--no-verify]\n"
    "       anvil-run generate MODEL.anvil --prompt TEXT [options] (see\n"
    "                 anvil-run generate --help)\n"
    "       anvil-run MODEL.anvil [--entry NAME] --input NAME=FILE.npy ...\n"
    "                 [--output-dir DIR] [--repeat N] [--threads N] "
    "[--no-verify]\n"
    "                 [--require-signature PUBKEY_FILE]\n"
    "\n"
    "  info            print the artifact's header, sections and manifest\n"
    "  --json          print them as one JSON object\n"
    "  --entry NAME    the entry point to run (default: the only one, or\n"
    "                  'main')\n"
    "  --input N=F     the value of input N, a .npy file (one per input)\n"
    "  --output-dir D  write each output to D/<name>.npy, creating D ('/'\n"
    "                  and ':' in names become '_'; default: print\n"
    "                  a summary of each output only)\n"
    "  --repeat N      after the first run, run N more times and print the\n"
    "                  median, min and max time of those runs\n"
    "  --threads N     threads for the model's parallel loops, at most\n"
    "                  1024 (default 0: one per hardware thread)\n"
    "  --no-verify     skip the section checksums (the header and section\n"
    "                  table are always checked)\n"
    "  --require-signature PUBKEY_FILE\n"
    "                  refuse the artifact unless it carries an Ed25519\n"
    "                  signature by this key (anvilc --sign-key), checked\n"
    "                  before any of its code is loaded\n";

int fail(const std::string &message) {
  std::cerr << "anvil-run: error: " << message << "\n";
  return 1;
}

/// An artifact file mapped read-only: info never reads the weights, which
/// may be gigabytes. openArtifactFile refuses what is not a regular file (a
/// FIFO would block, /dev/zero would never end).
class MappedArtifact {
public:
  MappedArtifact() = default;
  MappedArtifact(const MappedArtifact &) = delete;
  MappedArtifact &operator=(const MappedArtifact &) = delete;
  ~MappedArtifact() {
    if (mapping)
      munmap(mapping, length);
  }
  bool map(const std::string &path, std::string &error) {
    uint64_t size = 0;
    int fd = openArtifactFile(path.c_str(), size, error);
    if (fd < 0)
      return false;
    length = static_cast<size_t>(size);
    if (length) {
      void *p = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        error = "cannot map '" + path + "': " + std::strerror(errno);
        close(fd);
        return false;
      }
      mapping = p;
    }
    close(fd);
    return true;
  }
  const unsigned char *data() const {
    return static_cast<const unsigned char *>(mapping);
  }
  size_t size() const { return length; }

private:
  void *mapping = nullptr;
  size_t length = 0;
};

int info(const std::string &path, bool json, bool verify) {
  MappedArtifact bytes;
  std::string error;
  if (!bytes.map(path, error))
    return fail(error);
  if (!anvil::tools::printArtifactInfo(bytes.data(), bytes.size(), path, json,
                                       verify, std::cout, error))
    return fail(path + ": " + error);
  return 0;
}

/// Prints `status`'s message and returns 1 (for a failed C API call).
int failWith(const anvil::Status &status) {
  return fail(anvil_status_get_message(status.get()));
}

struct RunOptions {
  std::string entry, outputDir;
  std::string requiredKeyFile; // --require-signature
  bool verify = true;
  int repeat = 0;  // extra timed runs after the first
  int threads = 0; // 0: one per hardware thread
};

int run(const std::string &path,
        const std::vector<std::pair<std::string, std::string>> &inputFiles,
        const RunOptions &runOptions) {
  std::string entry = runOptions.entry;
  const std::string &outputDir = runOptions.outputDir;
  // Checked before the model is opened, so no work is lost to a bad path.
  if (!outputDir.empty()) {
    std::string error;
    if (!anvil::tools::prepareOutputDirectory(outputDir, error))
      return fail(error);
  }
  anvil::artifact::PublicKey requiredKey;
  if (!runOptions.requiredKeyFile.empty()) {
    std::string error;
    if (!readPublicKeyFile(runOptions.requiredKeyFile, requiredKey, error))
      return fail(error);
  }
  anvil_model_options options{};
  options.skip_checksums = runOptions.verify ? 0 : 1;
  options.num_threads = runOptions.threads;
  if (!runOptions.requiredKeyFile.empty())
    options.required_public_key = requiredKey.data();
  anvil_model *raw = nullptr;
  anvil::Status status{anvil_model_open_file(path.c_str(), &options, &raw)};
  if (status)
    return failWith(status);
  anvil::Model model{raw};
  size_t entries = anvil_model_entry_point_count(model.get());
  if (entry.empty())
    entry =
        entries == 1 ? anvil_model_entry_point_name(model.get(), 0) : "main";
  size_t inputCount = 0, outputCount = 0;
  status.reset(anvil_model_signature(model.get(), entry.c_str(), &inputCount,
                                     &outputCount));
  if (status)
    return failWith(status);

  std::vector<anvil::Tensor> inputs, outputs;
  std::vector<npy::Array> arrays(inputCount);
  std::vector<bool> used(inputFiles.size(), false);
  for (size_t i = 0; i < inputCount; ++i) {
    anvil_tensor_info info;
    status.reset(
        anvil_model_tensor_info(model.get(), entry.c_str(), 0, i, &info));
    if (status)
      return failWith(status);
    size_t which = inputFiles.size();
    for (size_t k = 0; k < inputFiles.size(); ++k)
      if (inputFiles[k].first == info.name)
        which = k;
    if (which == inputFiles.size())
      return fail(std::string("no --input given for input '") + info.name +
                  "' of '" + entry + "'");
    used[which] = true;
    std::string error;
    if (!npy::read(inputFiles[which].second, arrays[i], error))
      return fail(error);
    anvil_tensor *t = nullptr;
    status.reset(anvil_tensor_wrap(
        arrays[i].dtype, arrays[i].shape.size(), arrays[i].shape.data(),
        arrays[i].data.data(), arrays[i].data.size(), &t));
    if (status)
      return failWith(status);
    inputs.emplace_back(t);
  }
  for (size_t k = 0; k < inputFiles.size(); ++k)
    if (!used[k])
      return fail("'" + entry + "' has no input named '" + inputFiles[k].first +
                  "'");
  // Run-time sizes take their values from the inputs' dims; outputs are
  // created with those values (the runtime checks bounds and agreement).
  size_t sizeCount = 0;
  status.reset(anvil_model_size_count(model.get(), entry.c_str(), &sizeCount));
  if (status)
    return failWith(status);
  std::vector<int64_t> sizeValues(sizeCount, 0);
  for (size_t i = 0; i < inputCount; ++i)
    for (size_t d = 0; d < arrays[i].shape.size(); ++d) {
      int64_t which = -1;
      anvil::Status dimStatus{
          anvil_model_dim_size(model.get(), entry.c_str(), 0, i, d, &which)};
      if (!dimStatus && which >= 0 && size_t(which) < sizeCount)
        sizeValues[which] = arrays[i].shape[d];
    }
  std::vector<std::string> outputNames;
  for (size_t i = 0; i < outputCount; ++i) {
    anvil_tensor_info info;
    status.reset(
        anvil_model_tensor_info(model.get(), entry.c_str(), 1, i, &info));
    if (status)
      return failWith(status);
    for (size_t d = 0; d < info.rank; ++d) {
      int64_t which = -1;
      status.reset(
          anvil_model_dim_size(model.get(), entry.c_str(), 1, i, d, &which));
      if (status)
        return failWith(status);
      if (which >= 0 && size_t(which) < sizeCount)
        info.dims[d] = sizeValues[which];
    }
    anvil_tensor *t = nullptr;
    status.reset(anvil_tensor_create(info.dtype, info.rank, info.dims, &t));
    if (status)
      return failWith(status);
    outputs.emplace_back(t);
    outputNames.push_back(info.name);
  }
  std::vector<anvil_tensor *> in, out;
  for (auto &t : inputs)
    in.push_back(t.get());
  for (auto &t : outputs)
    out.push_back(t.get());
  status.reset(anvil_model_run(model.get(), entry.c_str(), in.data(), in.size(),
                               out.data(), out.size()));
  if (status)
    return failWith(status);
  if (runOptions.repeat > 0) {
    // The first run warmed caches and the arena pool; time the others.
    std::vector<double> ms;
    for (int r = 0; r < runOptions.repeat; ++r) {
      auto start = std::chrono::steady_clock::now();
      status.reset(anvil_model_run(model.get(), entry.c_str(), in.data(),
                                   in.size(), out.data(), out.size()));
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
      if (status)
        return failWith(status);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("timing: %d runs of '%s': median %.3f ms, min %.3f, max %.3f\n",
                runOptions.repeat, entry.c_str(), ms[ms.size() / 2], ms.front(),
                ms.back());
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    anvil_tensor *t = outputs[i].get();
    std::vector<int64_t> shape;
    for (size_t d = 0; d < anvil_tensor_rank(t); ++d)
      shape.push_back(anvil_tensor_dim(t, d));
    std::cout << "output " << outputNames[i] << ": "
              << anvil_dtype_name(anvil_tensor_dtype(t)) << " [";
    for (size_t d = 0; d < shape.size(); ++d)
      std::cout << (d ? "x" : "") << shape[d];
    std::cout << "]";
    if (!outputDir.empty()) {
      // Tensor names may hold '/' (exporters' scoped names).
      std::string stem = outputNames[i];
      for (char &c : stem)
        if (c == '/' || c == '\\' || c == ':')
          c = '_';
      std::string file = outputDir + "/" + stem + ".npy";
      std::string error;
      if (!npy::write(file, anvil_tensor_dtype(t), shape, anvil_tensor_data(t),
                      anvil_tensor_byte_size(t), error))
        return fail(error);
      std::cout << " -> " << file;
    }
    std::cout << "\n";
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "generate")
    return anvil::tools::generate(
        std::vector<std::string>(args.begin() + 1, args.end()));
  bool isInfo = args[0] == "info";
  std::string path;
  RunOptions runOptions;
  std::vector<std::pair<std::string, std::string>> inputs;
  bool json = false;
  for (size_t i = isInfo ? 1 : 0; i < args.size(); ++i) {
    bool hasValue = i + 1 < args.size();
    if (args[i] == "--json" && isInfo)
      json = true;
    else if (!isInfo && args[i] == "--entry" && hasValue)
      runOptions.entry = args[++i];
    else if (!isInfo && args[i] == "--output-dir" && hasValue)
      runOptions.outputDir = args[++i];
    else if (!isInfo && (args[i] == "--repeat" || args[i] == "--threads") &&
             hasValue) {
      const std::string &flag = args[i];
      const std::string &value = args[++i];
      char *end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end || n < 0 || n > 1000000)
        return fail(flag + " " + value + ": expected a count");
      // The C API's bound (anvil.h), said in the flag's terms.
      if (flag == "--threads" && n > ANVIL_MAX_THREADS)
        return fail("--threads " + value + ": at most " +
                    std::to_string(ANVIL_MAX_THREADS) + " threads");
      (flag == "--repeat" ? runOptions.repeat : runOptions.threads) = int(n);
    } else if (!isInfo && args[i] == "--input" && hasValue) {
      std::string spec = args[++i];
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        return fail("--input " + spec + ": expected NAME=FILE.npy");
      inputs.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
    } else if (!isInfo && args[i] == "--require-signature" && hasValue) {
      runOptions.requiredKeyFile = args[++i];
    } else if (!isInfo && args[i].rfind("--require-signature=", 0) == 0) {
      runOptions.requiredKeyFile = args[i].substr(20);
      if (runOptions.requiredKeyFile.empty())
        return fail("--require-signature needs a public key file");
    } else if (args[i] == "--no-verify")
      runOptions.verify = false;
    else if (!args[i].empty() && args[i][0] == '-')
      return fail("unknown option '" + args[i] + "'\n" + kUsage);
    else if (path.empty())
      path = args[i];
    else
      return fail("more than one artifact given");
  }
  if (path.empty())
    return fail(std::string("no artifact given\n") + kUsage);
  if (isInfo)
    return info(path, json, runOptions.verify);
  return run(path, inputs, runOptions);
}
