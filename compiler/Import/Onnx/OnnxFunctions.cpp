//===- OnnxFunctions.cpp - ONNX ops imported by their function bodies -----===//

#include "compiler/Import/Onnx/OnnxFunctions.h"
#include "compiler/Import/Onnx/OnnxExceptionWall.h"
#include "compiler/Import/Onnx/OnnxNodeContext.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

//===----------------------------------------------------------------------===//
// Bodies of ops newer than libonnx 1.12
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                     StringRef name) {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t intAttr(const onnx::NodeProto &node, StringRef name, int64_t fallback) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->i() : fallback;
}

/// A float in the syntax onnx's parser reads as a float (never as an int).
std::string floatText(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.9e", value);
  return text;
}

std::string floatAttr(const onnx::NodeProto &node, StringRef name,
                      double fallback) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return floatText(a ? a->f() : fallback);
}

std::string intsText(llvm::ArrayRef<int64_t> values) {
  std::string text = "[";
  for (auto [i, v] : llvm::enumerate(values))
    text += (i ? ", " : "") + std::to_string(v);
  return text + "]";
}

/// Input ranks of the node (-1: unknown or absent).
using Ranks = llvm::ArrayRef<int64_t>;

struct TextBody {
  const char *opType;
  /// The first opset of the default domain this body is the definition of.
  int64_t sinceVersion;
  std::vector<std::string> inputs, outputs;
  /// How many leading inputs are required (the rest are optional).
  size_t requiredInputs;
  /// The node list for `node`; empty with `error` set when the node cannot
  /// be expanded.
  std::string (*text)(const onnx::NodeProto &node, Ranks ranks,
                      std::string &error);
};

// Swish-24 (ONNX operator spec, Swish): Y = X * Sigmoid(alpha * X).
std::string swishText(const onnx::NodeProto &node, Ranks, std::string &) {
  return "{\n"
         "  Alpha = Constant <value_float = " +
         floatAttr(node, "alpha", 1.0) +
         "> ()\n"
         "  AlphaCast = CastLike (Alpha, X)\n"
         "  AlphaMulX = Mul (AlphaCast, X)\n"
         "  SigmoidAlphaMulX = Sigmoid (AlphaMulX)\n"
         "  Y = Mul (X, SigmoidAlphaMulX)\n"
         "}";
}

// CenterCropPad-18: pad (centered) to at least `shape`, then crop
// (centered) to `shape`, along `axes` (default: all).
std::string centerCropPadText(const onnx::NodeProto &node, Ranks ranks,
                              std::string &error) {
  llvm::SmallVector<int64_t> axes;
  if (const onnx::AttributeProto *a = findAttr(node, "axes")) {
    axes.assign(a->ints().begin(), a->ints().end());
  } else {
    if (ranks.empty() || ranks[0] < 0) {
      error = "needs an input of known rank when axes is not given";
      return "";
    }
    for (int64_t i = 0; i < ranks[0]; ++i)
      axes.push_back(i);
  }
  return "{\n"
         "  k2 = Constant <value = int64[1] {2}> ()\n"
         "  axes_input = Constant <value_ints = " +
         intsText(axes) +
         "> ()\n"
         "  x_shape_alldims = Shape (input_data)\n"
         "  x_shape = Gather (x_shape_alldims, axes_input)\n"
         "  padded_sh = Max (x_shape, shape)\n"
         "  pad_amount = Sub (padded_sh, x_shape)\n"
         "  pad_amount_left = Div (pad_amount, k2)\n"
         "  pad_amount_right = Sub (pad_amount, pad_amount_left)\n"
         "  pads = Concat <axis = 0> (pad_amount_left, pad_amount_right)\n"
         "  padded_input = Pad (input_data, pads, __absent__, axes_input)\n"
         "  x_shape_alldims2 = Shape (padded_input)\n"
         "  x_shape2 = Gather (x_shape_alldims2, axes_input)\n"
         "  sh_diff = Sub (x_shape2, shape)\n"
         "  start_dims = Div (sh_diff, k2)\n"
         "  end_dims = Add (start_dims, shape)\n"
         "  output_data = Slice (padded_input, start_dims, end_dims, "
         "axes_input)\n"
         "}";
}

// GroupNormalization-21: normalize each of num_groups channel groups (in
// stash_type), then a per-channel scale and bias.
std::string groupNormText(const onnx::NodeProto &node, Ranks,
                          std::string &error) {
  const onnx::AttributeProto *groups = findAttr(node, "num_groups");
  if (!groups || groups->i() <= 0) {
    error = "needs a positive num_groups attribute";
    return "";
  }
  std::string stash = std::to_string(intAttr(node, "stash_type", 1));
  return "{\n"
         "  FloatEpsilon = Constant <value = float[1] {" +
         floatAttr(node, "epsilon", 1e-5) +
         "}> ()\n"
         "  Epsilon = Cast <to = " +
         stash +
         "> (FloatEpsilon)\n"
         "  XU = Cast <to = " +
         stash +
         "> (X)\n"
         "  XShape = Shape (XU)\n"
         "  C = Shape <start = 1, end = 2> (X)\n"
         "  NumGroups = Constant <value = int64[1] {" +
         std::to_string(groups->i()) +
         "}> ()\n"
         "  GroupSize = Div (C, NumGroups)\n"
         "  N = Shape <start = 0, end = 1> (X)\n"
         "  InstanceShape = Shape <start = 2> (X)\n"
         "  NewShape = Concat <axis = 0> (N, NumGroups, GroupSize, "
         "InstanceShape)\n"
         "  XReshaped = Reshape (XU, NewShape)\n"
         "  Shape3D = Constant <value_ints = [0, 0, -1]> ()\n"
         "  X3D = Reshape (XReshaped, Shape3D)\n"
         "  Axes2 = Constant <value = int64[1] {2}> ()\n"
         "  Mean = ReduceMean (X3D, Axes2)\n"
         "  Square = Mul (X3D, X3D)\n"
         "  MeanOfSquare = ReduceMean (Square, Axes2)\n"
         "  SquareOfMean = Mul (Mean, Mean)\n"
         "  Var = Sub (MeanOfSquare, SquareOfMean)\n"
         "  VarPlusEpsilon = Add (Var, Epsilon)\n"
         "  StdDev = Sqrt (VarPlusEpsilon)\n"
         "  Deviation = Sub (X3D, Mean)\n"
         "  NormalizedU = Div (Deviation, StdDev)\n"
         "  NormalizedOriginalShape = Reshape (NormalizedU, XShape)\n"
         "  NormalizedNC = Reshape (NormalizedOriginalShape, Shape3D)\n"
         "  NormalizedT = CastLike (NormalizedNC, X)\n"
         "  ScaleShape = Constant <value_ints = [1, -1, 1]> ()\n"
         "  ScaleT = CastLike (scale, X)\n"
         "  BiasT = CastLike (bias, X)\n"
         "  ScaleReshaped = Reshape (ScaleT, ScaleShape)\n"
         "  BiasReshaped = Reshape (BiasT, ScaleShape)\n"
         "  Scaled = Mul (ScaleReshaped, NormalizedT)\n"
         "  Biased = Add (Scaled, BiasReshaped)\n"
         "  Y = Reshape (Biased, XShape)\n"
         "}";
}

// RMSNormalization-23: X / sqrt(mean(X^2 over axis..rank-1) + epsilon) *
// scale, computed in stash_type. (The handler imports the last-axis case
// as anvil.rms_norm; this body serves the rest, see the importer's
// fallback from a refusing handler.)
std::string rmsNormText(const onnx::NodeProto &node, Ranks ranks,
                        std::string &error) {
  if (ranks.empty() || ranks[0] < 0) {
    error = "needs an input of known rank";
    return "";
  }
  int64_t rank = ranks[0], axis = intAttr(node, "axis", -1);
  if (axis < -rank || axis >= rank) {
    error = "axis " + std::to_string(axis) + " is out of range for rank " +
            std::to_string(rank);
    return "";
  }
  if (axis < 0)
    axis += rank;
  llvm::SmallVector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  std::string stash = std::to_string(intAttr(node, "stash_type", 1));
  return "{\n"
         "  FloatEpsilon = Constant <value = float[1] {" +
         floatAttr(node, "epsilon", 1e-5) +
         "}> ()\n"
         "  Epsilon = Cast <to = " +
         stash +
         "> (FloatEpsilon)\n"
         "  ReduceAxes = Constant <value_ints = " +
         intsText(axes) +
         "> ()\n"
         "  XU = Cast <to = " +
         stash +
         "> (X)\n"
         "  XSquared = Mul (XU, XU)\n"
         "  XSquaredMean = ReduceMean (XSquared, ReduceAxes)\n"
         "  MeanSquareEpsilon = Add (XSquaredMean, Epsilon)\n"
         "  RMS = Sqrt (MeanSquareEpsilon)\n"
         "  Normalized = Div (XU, RMS)\n"
         "  NormalizedT = CastLike (Normalized, X)\n"
         "  Y = Mul (NormalizedT, scale)\n"
         "}";
}

const std::vector<TextBody> &textBodies() {
  static const std::vector<TextBody> bodies = {
      {"Swish", 24, {"X"}, {"Y"}, 1, swishText},
      {"CenterCropPad",
       18,
       {"input_data", "shape"},
       {"output_data"},
       2,
       centerCropPadText},
      {"GroupNormalization",
       21,
       {"X", "scale", "bias"},
       {"Y"},
       3,
       groupNormText},
      {"RMSNormalization", 23, {"X", "scale"}, {"Y"}, 2, rmsNormText},
  };
  return bodies;
}

const TextBody *findTextBody(const std::string &domain,
                             const std::string &opType, int64_t opset) {
  if (!domain.empty())
    return nullptr;
  for (const TextBody &body : textBodies())
    if (opType == body.opType && opset >= body.sinceVersion)
      return &body;
  return nullptr;
}

/// Ops whose definition changed after opset 17 (the newest libonnx 1.12
/// knows): libonnx's older body would be wrong for a newer node. (Ops that
/// only gained types, like NegativeLogLikelihoodLoss-22, are not listed.)
int64_t changedAfterLibonnx(const std::string &domain,
                            const std::string &opType) {
  static const std::map<std::string, int64_t> changed = {
      {"ReduceL1", 18},        {"ReduceL2", 18},
      {"ReduceLogSum", 18},    {"ReduceLogSumExp", 18},
      {"ReduceSumSquare", 18}, {"GroupNormalization", 21},
  };
  if (!domain.empty())
    return INT64_MAX;
  auto it = changed.find(opType);
  return it == changed.end() ? INT64_MAX : it->second;
}

/// The ONNX TensorProto data type of an element type (0 if none).
int onnxDataType(Type type) {
  if (type.isF32())
    return 1;
  if (type.isF16())
    return 10;
  if (type.isF64())
    return 11;
  if (type.isBF16())
    return 16;
  if (type.isInteger(1))
    return 9;
  if (auto integer = type.dyn_cast<IntegerType>()) {
    bool u = integer.isUnsigned();
    switch (integer.getWidth()) {
    case 8:
      return u ? 2 : 3;
    case 16:
      return u ? 4 : 5;
    case 32:
      return u ? 12 : 6;
    case 64:
      return u ? 13 : 7;
    }
  }
  return 0;
}

onnx::TypeProto typeProtoOf(Value value) {
  onnx::TypeProto proto;
  if (!value)
    return proto;
  auto tensor = value.getType().dyn_cast<TensorType>();
  if (!tensor)
    return proto;
  onnx::TypeProto_Tensor *t = proto.mutable_tensor_type();
  t->set_elem_type(onnxDataType(tensor.getElementType()));
  if (auto ranked = tensor.dyn_cast<RankedTensorType>()) {
    onnx::TensorShapeProto *shape = t->mutable_shape();
    for (int64_t size : ranked.getShape()) {
      onnx::TensorShapeProto_Dimension *dim = shape->add_dim();
      if (size != ShapedType::kDynamic)
        dim->set_dim_value(size);
    }
  }
  return proto;
}

} // namespace

bool hasFunctionBody(const std::string &domain, const std::string &opType,
                     int64_t opset) {
  if (findTextBody(domain, opType, opset))
    return true;
  if (opset >= changedAfterLibonnx(domain, opType))
    return false;
  int64_t since;
  return schemaHasFunctionNoThrow(domain, opType, opset, since);
}

FailureOr<std::optional<FunctionBody>>
lookupFunctionBody(const onnx::NodeProto &node, const std::string &domain,
                   int64_t opset, llvm::ArrayRef<Value> inputs, Location loc) {
  FunctionBody body;
  std::string error;
  if (const TextBody *text = findTextBody(domain, node.op_type(), opset)) {
    llvm::SmallVector<int64_t> ranks;
    for (Value input : inputs) {
      auto type = input ? input.getType().dyn_cast<RankedTensorType>()
                        : RankedTensorType();
      ranks.push_back(type ? type.getRank() : -1);
    }
    // The attributes Anvil's text bodies read, by their ONNX types: one of
    // another type is an error, not its default.
    static const std::pair<const char *, int> kTypes[] = {
        {"alpha", onnx::AttributeProto::FLOAT},
        {"axes", onnx::AttributeProto::INTS},
        {"num_groups", onnx::AttributeProto::INT},
        {"stash_type", onnx::AttributeProto::INT},
        {"epsilon", onnx::AttributeProto::FLOAT},
        {"axis", onnx::AttributeProto::INT}};
    for (const onnx::AttributeProto &a : node.attribute())
      for (auto [name, type] : kTypes)
        if (a.name() == name && a.type() != type)
          return emitError(loc) << node.op_type() << ": attribute '" << name
                                << "' must be " << attributeTypeName(type)
                                << ", not " << attributeTypeName(a.type());
    std::string nodes = text->text(node, ranks, error);
    if (nodes.empty())
      return emitError(loc) << node.op_type() << ": " << error;
    if (!parseNodeListNoThrow(nodes, body.proto, error))
      return emitError(loc) << node.op_type()
                            << ": Anvil's function body does not parse "
                               "(a compiler bug): "
                            << error;
    for (const std::string &name : text->inputs) {
      body.requiredInputs.push_back(body.proto.input_size() <
                                    (int)text->requiredInputs);
      body.proto.add_input(name);
    }
    for (const std::string &name : text->outputs)
      body.proto.add_output(name);
    onnx::OperatorSetIdProto *id = body.proto.add_opset_import();
    id->set_domain("");
    id->set_version(text->sinceVersion);
    body.origin = node.op_type() + "-" + std::to_string(text->sinceVersion);
    return std::optional<FunctionBody>(std::move(body));
  }
  if (opset >= changedAfterLibonnx(domain, node.op_type()))
    return std::optional<FunctionBody>();
  int64_t since;
  if (!schemaHasFunctionNoThrow(domain, node.op_type(), opset, since))
    return std::optional<FunctionBody>();
  std::vector<onnx::TypeProto> types;
  for (Value input : inputs)
    types.push_back(typeProtoOf(input));
  int found = functionBodyNoThrow(node, domain, opset, types, body.proto,
                                  body.defaults, body.requiredInputs, error);
  if (found < 0)
    return emitError(loc) << node.op_type()
                          << ": cannot build ONNX's function body: " << error;
  if (found == 0)
    return std::optional<FunctionBody>();
  body.origin = node.op_type() + "-" + std::to_string(since);
  // A variadic last input: every entry the node gives is required.
  if (!body.requiredInputs.empty())
    while ((int)body.requiredInputs.size() < node.input_size())
      body.requiredInputs.push_back(body.requiredInputs.back());
  return std::optional<FunctionBody>(std::move(body));
}

std::vector<onnx::NodeProto> instantiateFunction(const onnx::NodeProto &node,
                                                 const FunctionBody &body,
                                                 const std::string &prefix) {
  const onnx::FunctionProto &fn = body.proto;
  std::map<std::string, std::string> rename;
  for (int i = 0; i < fn.input_size(); ++i)
    rename[fn.input(i)] = i < node.input_size() ? node.input(i) : "";
  for (int i = 0; i < fn.output_size(); ++i)
    rename[fn.output(i)] = i < node.output_size() && !node.output(i).empty()
                               ? node.output(i)
                               : prefix + fn.output(i);
  std::map<std::string, const onnx::AttributeProto *> attributes;
  for (const onnx::AttributeProto &a : body.defaults)
    attributes[a.name()] = &a;
  for (const onnx::AttributeProto &a : node.attribute())
    attributes[a.name()] = &a;
  auto mapName = [&](const std::string &name) -> std::string {
    if (name.empty() || name == "__absent__")
      return "";
    auto it = rename.find(name);
    return it != rename.end() ? it->second : prefix + name;
  };

  std::vector<onnx::NodeProto> nodes;
  for (int k = 0; k < fn.node_size(); ++k) {
    onnx::NodeProto copy = fn.node(k);
    for (std::string &name : *copy.mutable_input())
      name = mapName(name);
    for (std::string &name : *copy.mutable_output())
      name = mapName(name);
    auto *attrs = copy.mutable_attribute();
    for (int i = 0; i < attrs->size();) {
      onnx::AttributeProto &a = (*attrs)[i];
      if (a.ref_attr_name().empty()) {
        ++i;
        continue;
      }
      auto it = attributes.find(a.ref_attr_name());
      if (it == attributes.end()) {
        attrs->DeleteSubrange(i, 1);
        continue;
      }
      std::string name = a.name();
      a = *it->second;
      a.set_name(name);
      ++i;
    }
    copy.set_name(prefix + (fn.node(k).name().empty()
                                ? fn.node(k).op_type() + "#" + std::to_string(k)
                                : fn.node(k).name()));
    nodes.push_back(std::move(copy));
  }
  return nodes;
}

std::vector<std::string> textBodyOpNames() {
  std::vector<std::string> names;
  for (const TextBody &body : textBodies())
    names.push_back(body.opType);
  return names;
}

} // namespace anvil::onnx_import
