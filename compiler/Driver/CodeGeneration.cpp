//===- CodeGeneration.cpp - kernel programs to artifacts ------------------===//

#include "compiler/Driver/CodeGeneration.h"
#include "compiler/Pipeline/Pipelines.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

#include "anvil/artifact.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"

#include "llvm/Support/MathExtras.h"
#include <map>

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::driver {
namespace {

/// The runtime's dtype names (runtime/src/Tensor.cpp), or "".
std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isF64())
    return "f64";
  if (type.isInteger(1))
    return "bool";
  if (auto integer = type.dyn_cast<IntegerType>()) {
    static const char *const kSigned[] = {"i8", "i16", "i32", "i64"};
    static const char *const kUnsigned[] = {"u8", "u16", "u32", "u64"};
    unsigned width = integer.getWidth();
    if (width < 8 || width > 64 || !llvm::isPowerOf2_32(width))
      return "";
    int index = llvm::Log2_32(width / 8);
    return integer.isUnsigned() ? kUnsigned[index] : kSigned[index];
  }
  return "";
}

} // namespace

LogicalResult lowerToKernelProgram(ModuleOp module, const Options &options) {
  PassManager pm(module.getContext());
  applyPassManagerCLOptions(pm);
  buildKernelPipeline(pm, options.optLevel, options.target);
  return pm.run(module);
}

FailureOr<std::string>
buildManifest(ModuleOp module, const Options &options,
              const backend::Target &target,
              const backend::TargetOptions &targetOptions) {
  llvm::json::Array entries;
  bool ok = true;
  bool bounded = false;
  for (auto func : module.getOps<func::FuncOp>()) {
    auto numInputs = func->getAttrOfType<IntegerAttr>(kNumInputsAttr);
    if (!numInputs)
      continue;
    // The bounded sizes the entry point receives, in sizes[] order.
    auto symbols = parseSizeSymbols(func->getAttr(kernel::kSizesAttr));
    if (failed(symbols)) {
      func.emitError() << "malformed '" << kernel::kSizesAttr << "'";
      ok = false;
      continue;
    }
    llvm::json::Array sizes;
    for (const SizeSymbol &symbol : *symbols)
      sizes.push_back(llvm::json::Object{{"name", symbol.name},
                                         {"min", symbol.min},
                                         {"max", symbol.max}});
    bounded |= !symbols->empty();
    llvm::json::Array inputs, outputs;
    for (BlockArgument arg : func.getArguments()) {
      auto type = arg.getType().cast<MemRefType>();
      auto name =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
      std::string tensorName = name
                                   ? name.getValue().str()
                                   : "arg" + std::to_string(arg.getArgNumber());
      std::string dtype = dtypeName(type.getElementType());
      if (dtype.empty()) {
        func.emitError() << "tensor '" << tensorName
                         << "' has the element type " << type.getElementType()
                         << ", which the runtime has no dtype for yet";
        ok = false;
      }
      // Each dim is an integer or the name of a size (the runtime checks
      // the size against its bounds and that one size has one value).
      llvm::json::Array shape;
      SmallVector<AffineExpr> dims = getBufferDims(arg);
      bool isOutput = arg.getArgNumber() >= numInputs.getInt();
      for (auto [i, dim] : llvm::enumerate(type.getShape())) {
        if (dim != ShapedType::kDynamic) {
          shape.push_back(dim);
          continue;
        }
        AffineExpr expr = i < dims.size() ? dims[i] : AffineExpr();
        auto symbol = expr ? expr.dyn_cast<AffineSymbolExpr>() : nullptr;
        if (!symbol || symbol.getPosition() >= symbols->size()) {
          std::string text;
          llvm::raw_string_ostream textStream(text);
          if (expr)
            textStream << expr;
          func.emitError() << (isOutput ? "output" : "input") << " '"
                           << tensorName << "' has the dim " << i << " = "
                           << (expr ? text : std::string("?"))
                           << " (symbol i is sizes[i]); the manifest gives "
                              "dims as integers or size names only for now, "
                              "so bound a dim of that size directly";
          ok = false;
          continue;
        }
        shape.push_back((*symbols)[symbol.getPosition()].name);
      }
      llvm::json::Object tensor{
          {"name", tensorName}, {"dtype", dtype}, {"shape", std::move(shape)}};
      (arg.getArgNumber() < numInputs.getInt() ? inputs : outputs)
          .push_back(std::move(tensor));
    }
    auto arena = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
    auto naive = func->getAttrOfType<IntegerAttr>(kNaiveArenaBytesAttr);
    entries.push_back(
        llvm::json::Object{{"name", func.getName()},
                           {"arena_bytes", arena ? arena.getInt() : 0},
                           {"naive_arena_bytes", naive ? naive.getInt() : 0},
                           {"sizes", std::move(sizes)},
                           {"inputs", std::move(inputs)},
                           {"outputs", std::move(outputs)}});
  }
  if (!ok)
    return failure();
  llvm::json::Array features;
  for (const std::string &feature : target.requiredFeatures(targetOptions))
    features.push_back(feature);
  llvm::json::Object model;
  if (auto source = module->getAttrOfType<StringAttr>("anvil.source"))
    model["source"] = source.getValue();
  if (auto producer = module->getAttrOfType<StringAttr>("anvil.producer"))
    model["producer"] = producer.getValue();
  if (auto opset = module->getAttrOfType<IntegerAttr>("anvil.opset"))
    model["opset"] = opset.getInt();
  if (auto weights = module->getAttrOfType<IntegerAttr>(kWeightBytesAttr))
    model["weight_bytes"] = weights.getInt();
  llvm::json::Object dims;
  for (auto &[name, size] : options.import.dims)
    dims[name] = size;
  llvm::json::Object root{
      // Version 2 (dims as integers or size names, a "sizes" table per
      // entry point) is a superset of 1. Artifacts without bounded dims keep
      // saying 1 until the runtime that reads 2 is merged.
      // ANVIL-MANIFEST-V2: write kManifestVersion (2) always after the merge.
      {"manifest_version", bounded ? 2 : 1},
      {"target",
       llvm::json::Object{
           {"name", target.name()},
           {"cpu", targetOptions.cpu.empty() ? "native" : targetOptions.cpu},
           {"cpu_features", std::move(features)}}},
      {"entry_points", std::move(entries)},
      {"model", std::move(model)},
      {"compile_options",
       llvm::json::Object{{"opt_level", (int64_t)options.optLevel},
                          {"dims", std::move(dims)},
                          {"compiler", "anvilc 0.1.0"}}}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)));
  return os.str();
}

LogicalResult collectWeights(ModuleOp module, WeightSection &section) {
  auto size = module->getAttrOfType<IntegerAttr>(kWeightBytesAttr);
  section.size = size ? size.getInt() : 0;
  std::map<uint64_t, ArrayRef<char>> placed; // by offset; shared weights once
  bool ok = true;
  module.walk([&](WeightOp weight) {
    // Identical weights share one offset: write it once.
    if (!ok || (weight.getOffset() && placed.count(*weight.getOffset()) &&
                bufferBytes(weight.getType()) != 0))
      return;
    section.storage.emplace_back();
    ArrayRef<char> bytes;
    if (!weight.getOffset() ||
        !viewWeightBytes(weight.getValue(), bytes, section.storage.back()) ||
        *weight.getOffset() + bytes.size() > section.size) {
      weight.emitOpError("cannot be placed in the weight section");
      ok = false;
      return;
    }
    // Empty weights take no bytes (and may share their offset with the
    // next weight).
    if (!bytes.empty())
      placed[*weight.getOffset()] = bytes;
  });
  if (!ok)
    return failure();
  for (auto &[offset, bytes] : placed)
    section.chunks.push_back({offset, bytes.data(), bytes.size()});
  return success();
}

LogicalResult writeArtifactFile(ModuleOp module, const std::string &targetName,
                                const std::string &manifest,
                                const std::string &code,
                                const WeightSection &weights,
                                llvm::raw_fd_ostream &os) {
  using namespace anvil::artifact;
  std::vector<SectionInput> sections = {
      {SectionKind::Manifest,
       "manifest",
       manifest.data(),
       manifest.size(),
       kMinAlignment,
       {}},
      {SectionKind::Code, "code", code.data(), code.size(), kPageAlignment, {}},
      {SectionKind::Weights, "weights", nullptr, weights.size, kPageAlignment,
       weights.chunks}};
  std::string error;
  bool ok = writeArtifact(
      targetName, sections,
      [&](const void *data, size_t size) {
        os.write(static_cast<const char *>(data), size);
        return !os.has_error();
      },
      error);
  if (!ok) {
    module.emitError() << "cannot write the artifact: " << error;
    return failure();
  }
  return success();
}

} // namespace anvil::driver
