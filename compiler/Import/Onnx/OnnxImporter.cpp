//===- OnnxImporter.cpp - ONNX protobuf to the anvil dialect --------------===//
//
// The graph becomes one func.func: graph inputs are its arguments (with
// symbolic dims bound by --dim / --input-shape, or left dynamic),
// initializers become anvil.constant, each node is translated by its
// handler from the op table, and graph outputs are returned.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxImporter.h"
#include "compiler/Import/Onnx/OnnxExceptionWall.h"
#include "compiler/Import/Onnx/OnnxFileAccess.h"
#include "compiler/Import/Onnx/OnnxFunctions.h"
#include "compiler/Import/Onnx/OnnxModelLoader.h"
#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "compiler/Import/Onnx/OnnxTensors.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

#include <climits>
#include <set>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

class GraphImporter {
public:
  GraphImporter(MLIRContext *context, StringRef sourceName, StringRef baseDir,
                const ImportOptions &options)
      : context(context), builder(context), options(options),
        sourceName(sourceName.str()),
        tensors(context, baseDir.str(), options.inlineConstantLimit) {}

  OwningOpRef<ModuleOp> run(onnx::ModelProto &model);

private:
  Location fileLoc() { return FileLineColLoc::get(context, sourceName, 0, 0); }
  Location nodeLoc(const onnx::NodeProto &node, int index) {
    std::string name = node.name().empty()
                           ? node.op_type() + "#" + std::to_string(index)
                           : node.name();
    return NameLoc::get(StringAttr::get(context, name), fileLoc());
  }

  LogicalResult collectOpsets(const onnx::ModelProto &model);
  LogicalResult checkAllOpsSupported(const onnx::GraphProto &graph);
  LogicalResult checkUniqueNames(const onnx::GraphProto &graph);
  LogicalResult checkBindings(const onnx::GraphProto &graph,
                              const llvm::StringSet<> &initializers);
  FailureOr<Type> inputType(const onnx::ValueInfoProto &input);
  ArrayAttr dimNames(const onnx::ValueInfoProto &input, Type type);
  using Opsets = std::map<std::string, int64_t>;
  LogicalResult importNode(onnx::NodeProto &node, Location loc,
                           const Opsets &nodeOpsets, int depth);
  LogicalResult expandFunction(onnx::NodeProto &node, Location loc,
                               ArrayRef<Value> inputs,
                               const std::string &domain,
                               const Opsets &nodeOpsets, int depth,
                               bool &expanded);
  LogicalResult importIf(onnx::NodeProto &node, Location loc,
                         ArrayRef<Value> inputs, const Opsets &nodeOpsets,
                         int depth);
  LogicalResult importSubgraph(onnx::GraphProto &graph,
                               llvm::SmallVectorImpl<std::string> &locals,
                               Location loc, const Opsets &nodeOpsets,
                               int depth);
  LogicalResult importConstantInput(const onnx::ValueInfoProto &input);
  int64_t resolveDim(StringRef name) const;

  MLIRContext *context;
  OpBuilder builder;
  const ImportOptions &options;
  std::string sourceName;
  TensorConverter tensors;
  Opsets opsets;
  llvm::StringMap<Value> values;
  /// Function bodies inlined so far ("NegativeLogLikelihoodLoss-13"), for
  /// the remark, and a counter that makes their value names unique.
  std::set<std::string> expandedOps;
  int64_t expansions = 0;
  /// Nesting of function bodies and If branches.
  static constexpr int kMaxDepth = 16;
};

LogicalResult GraphImporter::collectOpsets(const onnx::ModelProto &model) {
  for (const onnx::OperatorSetIdProto &id : model.opset_import()) {
    std::string domain = id.domain() == "ai.onnx" ? "" : id.domain();
    opsets[domain] = id.version();
  }
  return success();
}

LogicalResult
GraphImporter::checkAllOpsSupported(const onnx::GraphProto &graph) {
  const OpTable &table = OpTable::get();
  int unsupported = 0;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto opset = opsets.find(domain);
    std::string domainText = domain.empty() ? "ai.onnx" : domain;
    std::string opsetText =
        opset == opsets.end() ? "not imported" : std::to_string(opset->second);
    const OpTableEntry *entry = table.lookup(domain, node.op_type());
    if (entry && entry->handler && opset != opsets.end())
      continue;
    // If imports its taken branch; ops without a handler but with an ONNX
    // function body are inlined (their bodies are checked as they are).
    if (opset != opsets.end() && !(entry && entry->rejection) &&
        ((domain.empty() && node.op_type() == "If") ||
         hasFunctionBody(domain, node.op_type(), opset->second)))
      continue;
    InFlightDiagnostic diag = emitError(nodeLoc(node, i));
    diag << "unsupported op " << node.op_type() << " (domain " << domainText
         << ", opset " << opsetText << ")";
    if (entry && entry->rejection)
      diag << ": " << entry->rejection;
    ++unsupported;
  }
  if (unsupported) {
    emitError(fileLoc()) << unsupported
                         << (unsupported == 1 ? " node uses an unsupported op"
                                              : " nodes use unsupported ops")
                         << "; nothing was imported";
    return failure();
  }
  return success();
}

/// ONNX graphs are in SSA form: every name is defined once. A second
/// definition (two initializers, two graph inputs, a node output that
/// reuses a name) silently replaced the first; it is an error naming the
/// name. An initializer may share its name with a graph input (the input's
/// default, IR >= 4), but only with the type the input declares.
LogicalResult GraphImporter::checkUniqueNames(const onnx::GraphProto &graph) {
  llvm::StringMap<std::string> defined; // name -> what defines it
  auto define = [&](const std::string &name, std::string what,
                    Location loc) -> LogicalResult {
    auto [it, inserted] = defined.try_emplace(name, what);
    if (inserted)
      return success();
    return emitError(loc) << "'" << name << "' is defined twice: by "
                          << it->second << " and by " << what
                          << " (ONNX names must be unique)";
  };
  for (const onnx::ValueInfoProto &input : graph.input())
    if (failed(define(input.name(), "a graph input", fileLoc())))
      return failure();
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &t : graph.initializer()) {
    Location loc = NameLoc::get(builder.getStringAttr(t.name()), fileLoc());
    if (!initializers.insert(t.name()).second)
      return emitError(loc) << "'" << t.name()
                            << "' is defined twice: by two initializers "
                               "(ONNX names must be unique)";
    auto input = llvm::find_if(
        graph.input(), [&](const auto &i) { return i.name() == t.name(); });
    if (input == graph.input().end()) {
      if (failed(define(t.name(), "an initializer", loc)))
        return failure();
      continue;
    }
    // The initializer stands for the input: their types must agree.
    const auto &declared = input->type().tensor_type();
    bool agrees = input->type().has_tensor_type() &&
                  declared.elem_type() == t.data_type();
    if (agrees && declared.has_shape()) {
      agrees = declared.shape().dim_size() == t.dims_size();
      for (int i = 0; agrees && i < t.dims_size(); ++i)
        agrees = !declared.shape().dim(i).has_dim_value() ||
                 declared.shape().dim(i).dim_value() == t.dims(i);
    }
    if (!agrees)
      return emitError(loc)
             << "initializer '" << t.name() << "' ("
             << dataTypeName(t.data_type()) << ", " << t.dims_size()
             << " dims) does not match the type of the graph "
                "input of the same name";
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    std::string what =
        "node '" +
        (node.name().empty() ? node.op_type() + "#" + std::to_string(i)
                             : node.name()) +
        "'";
    for (const std::string &output : node.output())
      if (!output.empty() &&
          failed(define(output, "an output of " + what, nodeLoc(node, i))))
        return failure();
  }
  return success();
}

LogicalResult
GraphImporter::checkBindings(const onnx::GraphProto &graph,
                             const llvm::StringSet<> &initializers) {
  llvm::StringSet<> dimNames, inputNames;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    inputNames.insert(input.name());
    for (const auto &dim : input.type().tensor_type().shape().dim())
      if (dim.has_dim_param())
        dimNames.insert(dim.dim_param());
  }
  bool ok = true;
  for (const auto &[name, range] : options.boundedDims) {
    if (dimNames.contains(name) && range.first >= 0 &&
        range.first <= range.second)
      continue;
    ok = false;
    if (!dimNames.contains(name))
      emitError(fileLoc()) << "--dim=" << name << "=" << range.first << ".."
                           << range.second
                           << ": no graph input has a dimension named '" << name
                           << "'";
    else
      emitError(fileLoc()) << "--dim=" << name << "=" << range.first << ".."
                           << range.second
                           << ": bounds must satisfy 0 <= min <= max";
  }
  for (const auto &[name, size] : options.dims) {
    if (dimNames.contains(name) && size >= 0)
      continue;
    ok = false;
    InFlightDiagnostic diag = emitError(fileLoc());
    if (size < 0) {
      diag << "--dim=" << name << "=" << size << ": sizes must be >= 0";
      continue;
    }
    diag << "--dim=" << name << ": no graph input has a dimension named '"
         << name << "'";
    std::vector<std::string> known;
    for (const auto &n : dimNames)
      known.push_back(n.getKey().str());
    std::sort(known.begin(), known.end());
    if (!known.empty()) {
      diag << " (symbolic dimensions:";
      for (const auto &n : known)
        diag << (&n == &known.front() ? " '" : ", '") << n << "'";
      diag << ")";
    }
  }
  for (const auto &[name, file] : options.constantInputs) {
    if (inputNames.contains(name) && !initializers.contains(name) &&
        !options.inputShapes.count(name))
      continue;
    ok = false;
    emitError(fileLoc()) << "--constant-input=" << name << ": "
                         << (options.inputShapes.count(name)
                                 ? "the input also has an --input-shape"
                                 : "the graph has no input named '" + name +
                                       "'");
  }
  for (const auto &[name, shape] : options.inputShapes) {
    if (inputNames.contains(name) && !initializers.contains(name))
      continue;
    ok = false;
    emitError(fileLoc()) << "--input-shape=" << name
                         << ": the graph has no input named '" << name << "'";
  }
  return success(ok);
}

/// The size bound to a symbolic dim, or kDynamic. Exporters name derived
/// dims as sums ("past_sequence_length + sequence_length"); those resolve
/// when every term is bound. A name that is a plain integer ("2", as
/// transformers' OnnxExporter writes static head counts) is that size
/// unless --dim binds the name itself.
int64_t GraphImporter::resolveDim(StringRef name) const {
  auto bound = options.dims.find(name.str());
  if (bound != options.dims.end())
    return bound->second;
  int64_t literal;
  if (!name.trim().getAsInteger(10, literal) && literal >= 0)
    return literal;
  if (!name.contains('+'))
    return kDynamic;
  SmallVector<StringRef> terms;
  name.split(terms, '+');
  int64_t sum = 0;
  for (StringRef term : terms) {
    term = term.trim();
    int64_t value;
    if (term.getAsInteger(10, value)) {
      auto it = options.dims.find(term.str());
      if (it == options.dims.end())
        return kDynamic;
      value = it->second;
    }
    // A sum that overflows is no size; the input is then refused as
    // dynamic and unbound rather than wrapped to a negative dim.
    if (value < 0 || llvm::AddOverflow(sum, value, sum))
      return kDynamic;
  }
  return sum;
}

FailureOr<Type> GraphImporter::inputType(const onnx::ValueInfoProto &input) {
  if (!input.type().has_tensor_type()) {
    emitError(fileLoc()) << "graph input '" << input.name()
                         << "' is not a tensor (sequence, map and optional "
                            "inputs are not supported)";
    return failure();
  }
  const auto &tensorType = input.type().tensor_type();
  Type elementType = convertDataType(context, tensorType.elem_type());
  if (!elementType && packedDataType(tensorType.elem_type())) {
    emitError(fileLoc()) << "graph input '" << input.name() << "' has "
                         << dataTypeName(tensorType.elem_type())
                         << ", an unsupported data type for graph inputs: "
                            "Anvil takes 4-bit values only as initializers "
                            "(kept packed two per byte)";
    return failure();
  }
  if (!elementType) {
    emitError(fileLoc()) << "graph input '" << input.name()
                         << "' has unsupported "
                         << dataTypeName(tensorType.elem_type());
    return failure();
  }
  auto given = options.inputShapes.find(input.name());
  if (!tensorType.has_shape()) {
    if (given == options.inputShapes.end()) {
      emitError(fileLoc()) << "graph input '" << input.name()
                           << "' has no shape; give one with --input-shape="
                           << input.name() << ":DxDx...";
      return failure();
    }
    return Type(RankedTensorType::get(given->second, elementType));
  }
  const auto &dims = tensorType.shape().dim();
  if (given != options.inputShapes.end()) {
    if ((int)given->second.size() != dims.size()) {
      emitError(fileLoc()) << "--input-shape=" << input.name() << " has rank "
                           << given->second.size() << " but the input has rank "
                           << dims.size();
      return failure();
    }
    for (int i = 0; i < dims.size(); ++i) {
      if (dims[i].has_dim_value() && dims[i].dim_value() != given->second[i]) {
        emitError(fileLoc())
            << "--input-shape=" << input.name() << " sets dimension " << i
            << " to " << given->second[i] << " but the model fixes it to "
            << dims[i].dim_value();
        return failure();
      }
    }
    return Type(RankedTensorType::get(given->second, elementType));
  }
  SmallVector<int64_t> shape;
  for (int i = 0; i < dims.size(); ++i) {
    const auto &dim = dims[i];
    if (dim.has_dim_value() && dim.dim_value() >= 0) {
      shape.push_back(dim.dim_value());
    } else if (dim.has_dim_param() && !dim.dim_param().empty()) {
      shape.push_back(resolveDim(dim.dim_param()));
    } else {
      emitError(fileLoc()) << "dimension " << i << " of graph input '"
                           << input.name()
                           << "' is dynamic and has no name, so nothing binds "
                              "it; give the input's shape with --input-shape="
                           << input.name() << ":DxDx...";
      return failure();
    }
  }
  return Type(RankedTensorType::get(shape, elementType));
}

/// The input's ONNX dim names (its dim_params), one string per dim of
/// `type` and "" for dims without a name; null if no dim has one. Kept
/// whether --dim bound them or not, so later passes and diagnostics can
/// name a dim by its symbol.
ArrayAttr GraphImporter::dimNames(const onnx::ValueInfoProto &input,
                                  Type type) {
  auto ranked = type.dyn_cast<RankedTensorType>();
  const auto &tensorType = input.type().tensor_type();
  if (!ranked || !tensorType.has_shape() ||
      tensorType.shape().dim_size() != ranked.getRank())
    return nullptr;
  SmallVector<Attribute> names;
  bool any = false;
  for (const auto &dim : tensorType.shape().dim()) {
    std::string name = dim.has_dim_param() ? dim.dim_param() : "";
    any |= !name.empty();
    names.push_back(builder.getStringAttr(name));
  }
  return any ? builder.getArrayAttr(names) : nullptr;
}

/// Replaces a graph input by the tensor in the file --constant-input names,
/// after checking it against the input's declared type.
LogicalResult
GraphImporter::importConstantInput(const onnx::ValueInfoProto &input) {
  const std::string &path = options.constantInputs.at(input.name());
  Location loc = NameLoc::get(builder.getStringAttr(input.name()), fileLoc());
  auto file = readRegularFile(path);
  if (!file)
    return emitError(loc) << "--constant-input: cannot read '" << path
                          << "': " << llvm::toString(file.takeError());
  onnx::TensorProto tensor;
  std::string error;
  if (!parseProtoNoThrow(tensor, (*file)->getBuffer(), error))
    return emitError(loc) << "--constant-input: '" << path
                          << "' is not an ONNX TensorProto"
                          << (error.empty() ? "" : " (" + error + ")");
  ElementsAttr value = tensors.convert(tensor, loc);
  if (!value)
    return failure();
  // The declared type may leave dims dynamic or unnamed; the constant must
  // agree with whatever it does fix.
  const auto &declared = input.type().tensor_type();
  auto type = value.getType().cast<RankedTensorType>();
  bool agrees =
      convertDataType(context, declared.elem_type()) == type.getElementType();
  if (agrees && declared.has_shape()) {
    const auto &dims = declared.shape().dim();
    agrees = dims.size() == type.getRank();
    for (int i = 0; agrees && i < dims.size(); ++i)
      agrees =
          !dims[i].has_dim_value() || dims[i].dim_value() == type.getDimSize(i);
  }
  if (!agrees)
    return emitError(loc) << "--constant-input: '" << path << "' holds a "
                          << type << ", which input '" << input.name()
                          << "' does not accept";
  values[input.name()] = builder.create<ConstantOp>(loc, value);
  return success();
}

LogicalResult GraphImporter::importNode(onnx::NodeProto &node, Location loc,
                                        const Opsets &nodeOpsets, int depth) {
  SmallVector<Value> inputs;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      inputs.push_back(Value());
      continue;
    }
    auto it = values.find(name);
    if (it == values.end()) {
      return emitError(loc) << node.op_type() << ": input '" << name
                            << "' is not defined by any earlier node, graph "
                               "input or initializer (is the graph "
                               "topologically sorted?)";
    }
    if (!it->second)
      return emitError(loc) << node.op_type() << ": input '" << name
                            << "' is an optional output that Anvil does not "
                               "produce";
    if (tensors.packedInfo(it->second) &&
        node.op_type() != "DequantizeLinear" &&
        !(node.op_type() == "QuantizeLinear" && inputs.size() == 2) &&
        // Quantization: int4 data and zero points.
        !(node.op_type() == "GatherBlockQuantized" &&
          node.domain() == "com.microsoft" &&
          (inputs.size() == 0 || inputs.size() == 3)))
      return emitError(loc) << node.op_type() << ": input '" << name
                            << "' holds 4-bit values, which Anvil keeps "
                               "packed and reads only in DequantizeLinear "
                               "(and as QuantizeLinear's zero point)";
    inputs.push_back(it->second);
  }
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto opset = nodeOpsets.find(domain);
  // Attributes of the wrong type (a string `axis`) against the op's ONNX
  // schema, for every op libonnx knows; the handlers' accessors check the
  // rest (newer ops, com.microsoft).
  AttributeTypeMismatch mismatch;
  if (opset != nodeOpsets.end() &&
      !attributeTypesMatchSchemaNoThrow(node, domain, opset->second, mismatch))
    return emitError(loc) << node.op_type() << ": attribute '" << mismatch.name
                          << "' must be "
                          << attributeTypeName(mismatch.expected) << ", not "
                          << attributeTypeName(mismatch.actual);
  const OpTableEntry *entry = OpTable::get().lookup(domain, node.op_type());
  if (opset != nodeOpsets.end() && entry && entry->handler) {
    NodeContext ctx(node, inputs, opset->second, builder, loc, tensors);
    if (depth < kMaxDepth &&
        hasFunctionBody(domain, node.op_type(), opset->second)) {
      // A handler may refuse a configuration its op's function body
      // covers (RMSNormalization over more than the last axis): then the
      // ops it built are erased and the body is imported instead.
      Block *block = builder.getInsertionBlock();
      Operation *last = block->empty() ? nullptr : &block->back();
      SmallVector<Diagnostic> held;
      LogicalResult handled = failure();
      {
        ScopedDiagnosticHandler capture(context, [&](Diagnostic &diag) {
          held.push_back(std::move(diag));
          return success();
        });
        handled = entry->handler(ctx);
      }
      // A wrongly typed attribute is the node's error, not a reason to try
      // the function body.
      if (ctx.hadAttributeError()) {
        for (Diagnostic &diag : held)
          context->getDiagEngine().emit(std::move(diag));
        return failure();
      }
      if (failed(handled)) {
        while (!block->empty() && &block->back() != last) {
          Operation *op = &block->back();
          op->dropAllUses();
          op->erase();
        }
        bool expanded = false;
        SmallVector<Diagnostic> bodyErrors;
        {
          ScopedDiagnosticHandler capture(context, [&](Diagnostic &diag) {
            bodyErrors.push_back(std::move(diag));
            return success();
          });
          if (failed(expandFunction(node, loc, inputs, domain, nodeOpsets,
                                    depth, expanded)))
            expanded = false;
        }
        if (expanded) {
          std::string reason;
          for (Diagnostic &diag : held)
            if (diag.getSeverity() == DiagnosticSeverity::Error)
              reason = diag.str();
          emitRemark(loc) << reason << "; imported by its ONNX function body "
                          << "instead";
          return success();
        }
        // The handler's own errors say best what is wrong.
        for (Diagnostic &diag : held)
          context->getDiagEngine().emit(std::move(diag));
        return failure();
      }
      for (Diagnostic &diag : held)
        context->getDiagEngine().emit(std::move(diag));
    } else if (failed(entry->handler(ctx)) || ctx.hadAttributeError()) {
      return failure();
    }
    // Outputs a handler did not produce map to null: using one is an error
    // reported where it is used.
    for (int i = 0; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        values[node.output(i)] =
            i < (int)ctx.results.size() ? ctx.results[i] : Value();
    return success();
  }
  if (opset != nodeOpsets.end() && !(entry && entry->rejection)) {
    if (domain.empty() && node.op_type() == "If")
      return importIf(node, loc, inputs, nodeOpsets, depth);
    bool expanded = false;
    if (failed(expandFunction(node, loc, inputs, domain, nodeOpsets, depth,
                              expanded)))
      return failure();
    if (expanded)
      return success();
  }
  // Only reached inside function bodies and If branches: the main graph's
  // ops were all checked before import.
  InFlightDiagnostic diag = emitError(loc);
  diag << "unsupported op " << node.op_type() << " (domain "
       << (domain.empty() ? "ai.onnx" : domain) << ", opset "
       << (opset == nodeOpsets.end() ? std::string("not imported")
                                     : std::to_string(opset->second))
       << ")";
  if (entry && entry->rejection)
    diag << ": " << entry->rejection;
  return failure();
}

/// Inlines the ONNX function body of a node without a handler: the body's
/// nodes are imported in its place, at the body's own opsets.
LogicalResult GraphImporter::expandFunction(onnx::NodeProto &node, Location loc,
                                            ArrayRef<Value> inputs,
                                            const std::string &domain,
                                            const Opsets &nodeOpsets, int depth,
                                            bool &expanded) {
  expanded = false;
  auto opset = nodeOpsets.find(domain);
  FailureOr<std::optional<FunctionBody>> body =
      lookupFunctionBody(node, domain, opset->second, inputs, loc);
  if (failed(body))
    return failure();
  if (!*body)
    return success();
  if (depth >= kMaxDepth)
    return emitError(loc) << node.op_type()
                          << ": function bodies nest deeper than " << kMaxDepth;
  for (auto [i, required] : llvm::enumerate((*body)->requiredInputs))
    if (required && (i >= inputs.size() || !inputs[i]))
      return emitError(loc)
             << node.op_type() << ": missing required input " << i;
  expanded = true;
  expandedOps.insert((*body)->origin);
  std::string nodeName = node.name().empty() ? node.op_type() : node.name();
  std::string prefix = nodeName + "/fn" + std::to_string(expansions++) + "/";
  std::vector<onnx::NodeProto> nodes =
      instantiateFunction(node, **body, prefix);
  Opsets bodyOpsets = nodeOpsets;
  for (const onnx::OperatorSetIdProto &id : (*body)->proto.opset_import())
    bodyOpsets[id.domain() == "ai.onnx" ? "" : id.domain()] = id.version();
  for (onnx::NodeProto &bodyNode : nodes) {
    Location bodyLoc =
        NameLoc::get(StringAttr::get(context, bodyNode.name()), fileLoc());
    if (failed(importNode(bodyNode, bodyLoc, bodyOpsets, depth + 1)))
      return emitError(loc) << node.op_type() << " is imported by its ONNX "
                            << "function body (" << (*body)->origin
                            << "), and a node of that body failed (above)";
  }
  // Outputs the body does not define (optional ones) map to null.
  for (const std::string &output : node.output())
    if (!output.empty() && !values.count(output))
      values[output] = Value();
  return success();
}

/// Imports one If: its condition must fold to a constant at import; the
/// taken branch's nodes are imported inline (they see the outer values).
LogicalResult GraphImporter::importIf(onnx::NodeProto &node, Location loc,
                                      ArrayRef<Value> inputs,
                                      const Opsets &nodeOpsets, int depth) {
  Value cond = inputs.empty() ? Value() : inputs[0];
  if (!cond)
    return emitError(loc) << "If: missing required input 0 (cond)";
  Attribute attr;
  auto elements = matchPattern(cond, m_Constant(&attr))
                      ? attr.dyn_cast<DenseElementsAttr>()
                      : DenseElementsAttr();
  if (!elements) {
    InFlightDiagnostic diag = emitError(loc);
    diag << "If: the condition ";
    SmallVector<std::string> sources = graphInputsOf(cond);
    if (sources.empty()) {
      diag << "does not fold to a constant at import";
    } else {
      diag << "depends on graph input";
      for (const std::string &name : sources)
        diag << (&name == &sources.front() ? " '" : ", '") << name << "'";
      diag << " at run time";
    }
    diag << "; Anvil compiles static control flow only";
    std::string hint = bindingHint(cond);
    if (!hint.empty())
      return diag << ". If the condition depends only on shapes, " << hint;
    if (!sources.empty())
      diag << " (an input known when the model is compiled can be given "
              "with --constant-input="
           << sources.front() << "=FILE.pb)";
    return diag;
  }
  if (elements.getNumElements() != 1)
    return emitError(loc) << "If: the condition must hold one element, not "
                          << elements.getNumElements();
  bool taken = elements.getElementType().isa<FloatType>()
                   ? !(*elements.getValues<APFloat>().begin()).isZero()
                   : !(*elements.getValues<APInt>().begin()).isZero();
  const char *branchName = taken ? "then_branch" : "else_branch";
  onnx::GraphProto *branch = nullptr;
  for (onnx::AttributeProto &a : *node.mutable_attribute())
    if (a.name() == branchName && a.has_g())
      branch = a.mutable_g();
  if (!branch)
    return emitError(loc) << "If: missing the " << branchName
                          << " attribute (a graph)";
  if (depth >= kMaxDepth)
    return emitError(loc) << "If: branches nest deeper than " << kMaxDepth;
  if (branch->output_size() != node.output_size())
    return emitError(loc) << "If: the " << branchName << " has "
                          << branch->output_size()
                          << " outputs but the node has " << node.output_size();
  llvm::SmallVector<std::string> locals;
  if (failed(importSubgraph(*branch, locals, loc, nodeOpsets, depth + 1)))
    return emitError(loc) << "If: importing its " << branchName
                          << " (the condition is constant "
                          << (taken ? "true" : "false") << ") failed (above)";
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    auto it = values.find(branch->output(i).name());
    if (it == values.end() || !it->second)
      return emitError(loc)
             << "If: the " << branchName << " does not produce "
             << "its output '" << branch->output(i).name() << "'";
    values[node.output(i)] = it->second;
  }
  // The branch's own names go out of scope with it (a sibling branch or
  // another If may define them again); only the node's outputs remain.
  llvm::SmallVector<Value> results;
  for (int i = 0; i < node.output_size(); ++i)
    results.push_back(node.output(i).empty() ? Value()
                                             : values[node.output(i)]);
  for (const std::string &name : locals)
    values.erase(name);
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      values[node.output(i)] = results[i];
  return success();
}

/// Imports a subgraph's initializers and nodes into the current function
/// (outer values stay visible, as ONNX's scoping rules say) and lists the
/// names it defines in `locals`, for the caller to take out of scope. A
/// name the subgraph defines that is already visible (an outer value, or
/// one the subgraph defined before) is an error: ONNX graphs, subgraphs
/// included, are in SSA form, and the second definition would silently
/// replace the first.
LogicalResult GraphImporter::importSubgraph(
    onnx::GraphProto &graph, llvm::SmallVectorImpl<std::string> &locals,
    Location loc, const Opsets &nodeOpsets, int depth) {
  if (graph.sparse_initializer_size() > 0)
    return emitError(loc) << "sparse initializers are not supported";
  auto defineLocal = [&](const std::string &name,
                         Location at) -> LogicalResult {
    if (name.empty())
      return success();
    if (values.count(name))
      return emitError(at) << "'" << name << "' is defined twice: subgraph '"
                           << graph.name()
                           << "' defines a name already in scope (ONNX "
                              "names must be unique, subgraphs included)";
    locals.push_back(name);
    return success();
  };
  for (onnx::TensorProto &initializer : *graph.mutable_initializer()) {
    Location initLoc =
        NameLoc::get(builder.getStringAttr(initializer.name()), fileLoc());
    if (failed(defineLocal(initializer.name(), initLoc)))
      return failure();
    ElementsAttr value = tensors.convert(initializer, initLoc);
    if (!value)
      return failure();
    values[initializer.name()] = builder.create<ConstantOp>(initLoc, value);
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    onnx::NodeProto &node = *graph.mutable_node(i);
    std::string name =
        node.name().empty()
            ? graph.name() + "/" + node.op_type() + "#" + std::to_string(i)
            : node.name();
    Location nodeLoc = NameLoc::get(StringAttr::get(context, name), fileLoc());
    for (const std::string &output : node.output())
      if (failed(defineLocal(output, nodeLoc)))
        return failure();
    if (failed(importNode(node, nodeLoc, nodeOpsets, depth)))
      return failure();
  }
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run(onnx::ModelProto &model) {
  onnx::GraphProto &graph = *model.mutable_graph();
  if (failed(collectOpsets(model)) || failed(checkAllOpsSupported(graph)))
    return nullptr;
  if (graph.sparse_initializer_size() > 0) {
    emitError(fileLoc()) << "sparse initializers are not supported";
    return nullptr;
  }
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &t : graph.initializer())
    initializerNames.insert(t.name());
  if (failed(checkUniqueNames(graph)) ||
      failed(checkBindings(graph, initializerNames)))
    return nullptr;

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc());
  (*module)->setAttr(
      "anvil.source",
      builder.getStringAttr(llvm::sys::path::filename(sourceName)));
  (*module)->setAttr("anvil.opset", builder.getI64IntegerAttr(opsets[""]));
  if (!model.producer_name().empty())
    (*module)->setAttr("anvil.producer",
                       builder.getStringAttr(model.producer_name() + " " +
                                             model.producer_version()));

  // Arguments: graph inputs that are not initializers (IR < 4 lists
  // initializers among the inputs too).
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  SmallVector<const onnx::ValueInfoProto *> constantInputs;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    if (options.constantInputs.count(input.name())) {
      constantInputs.push_back(&input);
      continue;
    }
    FailureOr<Type> type = inputType(input);
    if (failed(type))
      return nullptr;
    std::string tooLarge = tensorSizeProblem(*type);
    if (!tooLarge.empty()) {
      emitError(fileLoc()) << "graph input '" << input.name()
                           << "': " << tooLarge;
      return nullptr;
    }
    argTypes.push_back(*type);
    args.push_back(&input);
  }
  auto func = func::FuncOp::create(fileLoc(), options.entryName,
                                   builder.getFunctionType(argTypes, {}));
  module->push_back(func);
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);
  for (auto [i, input] : llvm::enumerate(args)) {
    values[input->name()] = body->getArgument(i);
    func.setArgAttr(i, "anvil.name", builder.getStringAttr(input->name()));
    if (ArrayAttr names = dimNames(*input, argTypes[i]))
      func.setArgAttr(i, kDimNamesAttr, names);
  }
  if (!options.boundedDims.empty()) {
    SmallVector<Attribute> sizes;
    for (const auto &[name, range] : options.boundedDims)
      sizes.push_back(builder.getDictionaryAttr(
          {builder.getNamedAttr("name", builder.getStringAttr(name)),
           builder.getNamedAttr("min", builder.getI64IntegerAttr(range.first)),
           builder.getNamedAttr("max",
                                builder.getI64IntegerAttr(range.second))}));
    func->setAttr("anvil.sizes", builder.getArrayAttr(sizes));
    // The bound sizes too, for dims named by sums of bound and bounded
    // sizes ("past_sequence_length + sequence_length").
    SmallVector<NamedAttribute> bound;
    for (const auto &[name, size] : options.dims)
      bound.push_back(
          builder.getNamedAttr(name, builder.getI64IntegerAttr(size)));
    if (!bound.empty())
      func->setAttr("anvil.dim_values", builder.getDictionaryAttr(bound));
  }

  for (const onnx::ValueInfoProto *input : constantInputs)
    if (failed(importConstantInput(*input)))
      return nullptr;

  for (onnx::TensorProto &initializer : *graph.mutable_initializer()) {
    Location loc =
        NameLoc::get(builder.getStringAttr(initializer.name()), fileLoc());
    std::optional<PackedValues> packed;
    ElementsAttr value = tensors.convert(initializer, loc, &packed);
    if (!value)
      return nullptr;
    Value constant = builder.create<ConstantOp>(loc, value);
    if (packed)
      tensors.notePacked(constant, *packed);
    values[initializer.name()] = constant;
  }

  for (int i = 0; i < graph.node_size(); ++i)
    if (failed(importNode(*graph.mutable_node(i), nodeLoc(graph.node(i), i),
                          opsets, 0)))
      return nullptr;
  if (!expandedOps.empty()) {
    InFlightDiagnostic remark = emitRemark(fileLoc());
    remark << "imported by their ONNX function bodies:";
    for (const std::string &op : expandedOps)
      remark << (op == *expandedOps.begin() ? " " : ", ") << op;
  }

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end() || !it->second) {
      emitError(fileLoc()) << "graph output '" << output.name()
                           << "' is not produced by any node";
      return nullptr;
    }
    if (tensors.packedInfo(it->second)) {
      emitError(fileLoc()) << "graph output '" << output.name()
                           << "' holds 4-bit values, which Anvil keeps packed "
                              "and cannot return yet";
      return nullptr;
    }
    results.push_back(it->second);
  }
  builder.create<func::ReturnOp>(fileLoc(), results);
  func.setType(
      builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "anvil.name", builder.getStringAttr(output.name()));
  return module;
}

} // namespace

void registerImportDialects(MLIRContext *context) {
  context->loadDialect<AnvilDialect, func::FuncDialect>();
}

OwningOpRef<ModuleOp> importOnnxBuffer(MLIRContext *context, StringRef bytes,
                                       StringRef bufferName, StringRef baseDir,
                                       const ImportOptions &options) {
  registerImportDialects(context);
  Location loc = FileLineColLoc::get(context, bufferName, 0, 0);
  std::unique_ptr<onnx::ModelProto> model = parseModel(bytes, loc);
  if (!model)
    return nullptr;
  GraphImporter importer(context, bufferName, baseDir, options);
  return importer.run(*model);
}

OwningOpRef<ModuleOp> importOnnxFile(MLIRContext *context, StringRef path,
                                     const ImportOptions &options) {
  registerImportDialects(context);
  // A FIFO or /dev/zero as the model would block or read until memory
  // runs out: refused before reading.
  auto file = readRegularFile(path);
  if (!file) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot read the model: " << llvm::toString(file.takeError());
    return nullptr;
  }
  SmallString<256> baseDir = llvm::sys::path::parent_path(path);
  if (baseDir.empty())
    baseDir = ".";
  return importOnnxBuffer(context, (*file)->getBuffer(), path, baseDir,
                          options);
}

std::vector<std::string> symbolicDimNames(MLIRContext *context,
                                          StringRef path) {
  auto file = readRegularFile(path);
  if (!file) {
    llvm::consumeError(file.takeError());
    return {};
  }
  // Parse errors are the real import's to report.
  ScopedDiagnosticHandler quiet(context,
                                [](Diagnostic &) { return success(); });
  std::unique_ptr<onnx::ModelProto> model = parseModel(
      (*file)->getBuffer(), FileLineColLoc::get(context, path, 0, 0));
  std::vector<std::string> names;
  if (!model)
    return names;
  for (const onnx::ValueInfoProto &input : model->graph().input())
    for (const auto &dim : input.type().tensor_type().shape().dim())
      if (dim.has_dim_param() &&
          dim.dim_param().find(' ') == std::string::npos &&
          std::find(names.begin(), names.end(), dim.dim_param()) == names.end())
        names.push_back(dim.dim_param());
  return names;
}

} // namespace anvil::onnx_import
