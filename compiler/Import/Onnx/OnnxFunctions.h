//===- OnnxFunctions.h - ONNX ops imported by their function bodies -*- C++
//-*-===//
//
// ONNX defines many ops by a function body of simpler ops
// (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss,
// MeanVarianceNormalization, the window functions, ...). An op without a
// handler whose schema has such a body is imported by inlining the body:
// its nodes, renamed, go through the normal handlers. The bodies come from
// Debian's libonnx 1.12 (which knows opsets up to 17), and for a few newer
// ops (Swish-24, CenterCropPad-18, GroupNormalization-21,
// RMSNormalization-23) from a small table in ONNX's textual syntax, copied from
// the ONNX operator spec (onnx 1.19's function bodies).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXFUNCTIONS_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXFUNCTIONS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"

#include "onnx/onnx_pb.h"

#include <optional>
#include <string>
#include <vector>

namespace anvil::onnx_import {

/// A function body ready to inline.
struct FunctionBody {
  /// Inputs, outputs, nodes and opset_import of the body.
  onnx::FunctionProto proto;
  /// Default values of the op's attributes, for ref_attr_name references
  /// the node does not set.
  std::vector<onnx::AttributeProto> defaults;
  /// Per formal input: whether the op requires it (a body may read it
  /// unconditionally, so a node that omits it is refused).
  std::vector<bool> requiredInputs;
  /// Where it came from, for the remark ("libonnx
  /// NegativeLogLikelihoodLoss-13").
  std::string origin;
};

/// Whether a node of `opType` in `domain` ("" for the default domain) at
/// `opset` can be imported by its function body.
bool hasFunctionBody(const std::string &domain, const std::string &opType,
                     int64_t opset);

/// The default-domain ops whose newer bodies Anvil keeps in ONNX text
/// (libonnx 1.12 predates them).
std::vector<std::string> textBodyOpNames();

/// The function body for `node`, whose inputs were imported as `inputs`
/// (null for absent ones). nullopt when the op has none; failure (reported
/// at `loc`) when building it failed.
mlir::FailureOr<std::optional<FunctionBody>>
lookupFunctionBody(const onnx::NodeProto &node, const std::string &domain,
                   int64_t opset, llvm::ArrayRef<mlir::Value> inputs,
                   mlir::Location loc);

/// The body's nodes instantiated for `node`: body inputs renamed to the
/// node's inputs ("" where the node omits an optional input), body outputs
/// to the node's outputs, every other value to `prefix` + its name;
/// attribute references (ref_attr_name) replaced by the node's attribute or
/// the default, or dropped when neither exists.
std::vector<onnx::NodeProto> instantiateFunction(const onnx::NodeProto &node,
                                                 const FunctionBody &body,
                                                 const std::string &prefix);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXFUNCTIONS_H
