//===- CodeGeneration.cpp - kernel programs to artifacts ------------------===//

#include "compiler/Driver/CodeGeneration.h"
#include "compiler/Pipeline/Pipelines.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/ElementTypes.h"
#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"

#include "anvil/artifact.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"

#include <map>

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::driver {
namespace {

/// The runtime's dtype name (dtypes.def), or "" when it has none.
std::string dtypeName(Type type) {
  const DType *row = dtypeOf(type);
  return row ? row->name : "";
}

} // namespace

LogicalResult lowerToKernelProgram(ModuleOp module, const Options &options,
                                   TimingScope &timing) {
  PassManager pm(module.getContext());
  applyPassManagerCLOptions(pm);
  pm.enableTiming(timing);
  buildKernelPipeline(pm, options.optLevel, options.target,
                      options.fuseEpilogues);
  return pm.run(module);
}

FailureOr<std::string>
buildManifest(ModuleOp module, const Options &options,
              const target::Target &target,
              const target::TargetOptions &targetOptions) {
  llvm::json::Array entries;
  bool ok = true;
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
      sizes.push_back(llvm::json::Object{
          {"name", symbol.name}, {"min", symbol.min}, {"max", symbol.max}});
    llvm::json::Array inputs, outputs, states;
    int64_t stateCount = numStates(func);
    // Dims that are a computed size (`past_sequence_length + 1`), with the
    // tensors that have them: one error per size, after the loop.
    std::map<std::string, SmallVector<std::string>> unnamable;
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
      for (auto [i, dim] : llvm::enumerate(type.getShape())) {
        if (dim != ShapedType::kDynamic) {
          shape.push_back(dim);
          continue;
        }
        AffineExpr expr = i < dims.size() ? dims[i] : AffineExpr();
        auto symbol = expr ? expr.dyn_cast<AffineSymbolExpr>() : nullptr;
        if (!symbol || symbol.getPosition() >= symbols->size()) {
          std::string size = expr ? formatDim(expr, *symbols) : "?";
          unnamable[size].push_back("'" + tensorName + "' dim " +
                                    std::to_string(i));
          ok = false;
          continue;
        }
        shape.push_back((*symbols)[symbol.getPosition()].name);
      }
      llvm::json::Object tensor{
          {"name", tensorName}, {"dtype", dtype}, {"shape", std::move(shape)}};
      int64_t index = arg.getArgNumber();
      (index < numInputs.getInt()                ? inputs
       : index < numInputs.getInt() + stateCount ? states
                                                 : outputs)
          .push_back(std::move(tensor));
    }
    for (const auto &[size, where] : unnamable) {
      InFlightDiagnostic diag = func.emitError();
      diag << (where.size() == 1 ? "the size of " : "the sizes of ");
      for (const std::string &w : where)
        diag << (&w == &where.front() ? "" : ", ") << w;
      diag << " " << (where.size() == 1 ? "is" : "are") << " " << size
           << ", computed from sizes bound with a range; the runtime "
              "manifest describes a dim only as an integer or one bound "
              "size for now, so compile with fixed sizes for the dims in "
              "it (--dim=NAME=SIZE; a decoder's present KV, past + "
              "sequence, is the usual case)";
    }
    auto arena = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
    auto naive = func->getAttrOfType<IntegerAttr>(kNaiveArenaBytesAttr);
    entries.push_back(
        llvm::json::Object{{"name", func.getName()},
                           {"arena_bytes", arena ? arena.getInt() : 0},
                           {"naive_arena_bytes", naive ? naive.getInt() : 0},
                           {"sizes", std::move(sizes)},
                           {"inputs", std::move(inputs)},
                           {"outputs", std::move(outputs)},
                           {"states", std::move(states)}});
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
  if (auto streamed =
          module->getAttrOfType<IntegerAttr>(kStreamedWeightBytesAttr))
    model["streamed_weight_bytes"] = streamed.getInt();
  // A paged decoder's facts for the engine (anvil-paged-kv's anvil.llm).
  std::optional<llvm::json::Object> llmObject;
  if (auto llm = module->getAttrOfType<DictionaryAttr>("anvil.llm")) {
    llvm::json::Object object;
    for (NamedAttribute entry : llm) {
      if (auto i = entry.getValue().dyn_cast<IntegerAttr>())
        object[entry.getName().getValue()] = i.getInt();
      else if (auto str = entry.getValue().dyn_cast<StringAttr>())
        object[entry.getName().getValue()] = str.getValue();
    }
    for (auto &[key, ids] : options.llmTokenIds) {
      llvm::json::Array list;
      for (int64_t id : ids)
        list.push_back(id);
      object[key] = std::move(list);
    }
    llmObject = std::move(object);
  }
  llvm::json::Object dims;
  for (auto &[name, size] : options.import.dims)
    dims[name] = size;
  // The manifest's key is "cpu" (docs/artifact-format.md); it holds the
  // subtarget.
  std::string subtarget = targetOptions.subtarget;
  if (subtarget.empty() && !target.subtargets().empty())
    subtarget = target.subtargets().front();
  llvm::json::Object root{
      {"manifest_version", 2},
      {"target", llvm::json::Object{{"name", target.name()},
                                    {"cpu", subtarget},
                                    {"cpu_features", std::move(features)}}},
      {"entry_points", std::move(entries)},
      {"model", std::move(model)},
      {"compile_options",
       llvm::json::Object{{"opt_level", (int64_t)options.optLevel},
                          {"dims", std::move(dims)},
                          {"compiler", "anvilc 0.1.0"}}}};
  if (llmObject)
    root["llm"] = std::move(*llmObject);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)));
  return os.str();
}

LogicalResult collectWeights(ModuleOp module, WeightSection &section) {
  auto size = module->getAttrOfType<IntegerAttr>(kWeightBytesAttr);
  section.size = size ? size.getInt() : 0;
  // By offset; shared weights once.
  std::map<uint64_t, anvil::artifact::SectionChunk> placed;
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
    if (bytes.empty())
      return;
    anvil::artifact::SectionChunk chunk{*weight.getOffset(), bytes.data(),
                                        bytes.size()};
    // A weight in another layout is rearranged piece by piece as the
    // section is written (twice: checksum, then the file), never held.
    if (std::optional<StringRef> layout = weight.getLayout()) {
      auto valueType = weight.getValue().getType().cast<ShapedType>();
      // A layout may pad (the quantized panels): the buffer's size.
      chunk.size = bufferBytes(weight.getType());
      if (*weight.getOffset() + chunk.size > section.size) {
        weight.emitOpError("cannot be placed in the weight section");
        ok = false;
        return;
      }
      chunk.data = nullptr;
      chunk.fill = [layout = layout->str(), valueType,
                    bytes](uint64_t from, void *out, size_t n) {
        copyWeightBytesInLayout(layout, valueType, bytes, from,
                                static_cast<char *>(out), n);
      };
    }
    placed[*weight.getOffset()] = std::move(chunk);
  });
  if (!ok)
    return failure();
  for (auto &[offset, chunk] : placed)
    section.chunks.push_back(std::move(chunk));
  return success();
}

LogicalResult writeArtifactFile(ModuleOp module, const std::string &targetName,
                                const std::string &manifest,
                                const std::vector<target::CodeObject> &code,
                                const WeightSection &weights,
                                const std::string &tokenizer,
                                llvm::raw_fd_ostream &os) {
  using namespace anvil::artifact;
  // The artifact format (version 1) holds one code section.
  if (code.size() != 1) {
    module.emitError() << "the artifact format holds one code section, but "
                          "the target built "
                       << code.size() << " code objects";
    return failure();
  }
  std::vector<SectionInput> sections = {{SectionKind::Manifest,
                                         "manifest",
                                         manifest.data(),
                                         manifest.size(),
                                         kMinAlignment,
                                         {}}};
  for (const target::CodeObject &object : code)
    sections.push_back({SectionKind::Code,
                        object.name,
                        object.bytes.data(),
                        object.bytes.size(),
                        kPageAlignment,
                        {}});
  sections.push_back({SectionKind::Weights, "weights", nullptr, weights.size,
                      kPageAlignment, weights.chunks});
  if (!tokenizer.empty())
    sections.push_back({SectionKind::Tokenizer,
                        "tokenizer",
                        tokenizer.data(),
                        tokenizer.size(),
                        kMinAlignment,
                        {}});
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
