//===- OnnxNodeContext.h - what an op importer sees of a node ----*- C++
//-*-===//
//
// Each ONNX op has one handler function. It reads the node's inputs and
// attributes through a NodeContext, builds anvil ops with `create`, and
// pushes one Value per node output onto `results`.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXNODECONTEXT_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXNODECONTEXT_H

#include "compiler/Import/Onnx/OnnxTensors.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

#include <optional>

namespace onnx {
class NodeProto;
class AttributeProto;
} // namespace onnx

namespace anvil::onnx_import {

/// Sets the result types of a freshly built op from its shape inference.
mlir::LogicalResult inferResultTypesInPlace(mlir::Operation *op);

/// Folds a freshly built single-result op with the anvil dialect's folders
/// right away, so shape arithmetic (Shape -> Gather -> Concat -> Reshape)
/// becomes constants while the graph is imported and the handlers that need
/// constant axes, pads or sizes see them. Returns the value to use in place
/// of the op's result: a new anvil.constant (the op is erased), another
/// existing value (the op is erased), or the op's own result.
mlir::Value foldAtImport(mlir::Operation *op);

/// What binds the dynamic dims `value` depends on: for each graph input
/// (function argument) in its producer cone with dynamic dims, the
/// symbolic dims' names and the --dim / --input-shape flags that bind them,
/// e.g. "it depends on graph input 'mask' (tensor<2x?xi64>) whose dim 's53'
/// is not bound: bind it with --dim=s53=SIZE or --input-shape=mask:2x{s53}".
/// Empty when no such input is found.
std::string bindingHint(mlir::Value value);

/// "; " + bindingHint(value), or "" when that is empty: for the end of an
/// error saying a shape is not static.
std::string bindingHintSuffix(mlir::Value value);

/// ONNX's name of an AttributeProto type ("INT", "STRINGS"), for messages;
/// says so when the type is not set or unknown.
std::string attributeTypeName(int type);

/// The graph inputs (their anvil.name) in `value`'s producer cone.
llvm::SmallVector<std::string> graphInputsOf(mlir::Value value);

class NodeContext {
public:
  NodeContext(onnx::NodeProto &node, llvm::ArrayRef<mlir::Value> inputs,
              int64_t opset, mlir::OpBuilder &builder, mlir::Location loc,
              TensorConverter &tensors)
      : node(node), opset(opset), builder(builder), loc(loc), tensors(tensors),
        inputs(inputs.begin(), inputs.end()) {}

  onnx::NodeProto &node;
  /// The opset version of the node's domain.
  int64_t opset;
  mlir::OpBuilder &builder;
  mlir::Location loc;
  TensorConverter &tensors;
  /// One entry per node output; a null Value for an output not produced.
  llvm::SmallVector<mlir::Value> results;

  //===--- inputs ---------------------------------------------------------===//
  size_t numInputs() const { return inputs.size(); }
  /// Input `i`, or null when absent (omitted optional input).
  mlir::Value input(size_t i) const {
    return i < inputs.size() ? inputs[i] : mlir::Value();
  }
  /// Input `i`; reports an error (returning null) when it is missing.
  mlir::Value requiredInput(size_t i, llvm::StringRef what);
  /// The values of a constant integer input; reports an error naming `what`
  /// if the input is present but not a compile-time constant.
  mlir::FailureOr<std::optional<llvm::SmallVector<int64_t>>>
  constantIntsInput(size_t i, llvm::StringRef what);
  /// An op's `axes`: the attribute (before opset 13/18) or else constant
  /// input `inputIndex`; nullopt when neither is given.
  mlir::FailureOr<std::optional<llvm::SmallVector<int64_t>>>
  axesAttrOrInput(size_t inputIndex);
  /// The value of a constant scalar floating-point (or integer) input.
  mlir::FailureOr<std::optional<double>>
  constantScalarInput(size_t i, llvm::StringRef what);

  //===--- attributes -----------------------------------------------------===//
  // Every accessor checks the attribute's ONNX type. One of another type
  // (a string or float `axis`) is reported, naming the node, the
  // attribute, the expected and the actual type; the accessor then answers
  // as if the attribute were absent, and hadAttributeError() makes the
  // importer fail the node whatever the handler returns. So a handler
  // never reads a wrongly typed attribute as 0.

  /// The attribute `name`, whatever its type; null when absent.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  /// The attribute `name` if it has ONNX type `type`
  /// (onnx::AttributeProto::AttributeType); null when absent or (reported)
  /// of another type.
  const onnx::AttributeProto *typedAttr(llvm::StringRef name, int type) const;
  /// An INT attribute, or `fallback` when absent.
  int64_t attrInt(llvm::StringRef name, int64_t fallback) const;
  /// A FLOAT attribute, or `fallback` when absent.
  float attrFloat(llvm::StringRef name, float fallback) const;
  /// A STRING attribute, or `fallback` when absent.
  std::string attrString(llvm::StringRef name, llvm::StringRef fallback) const;
  /// An INTS attribute, or nullopt when absent.
  std::optional<llvm::SmallVector<int64_t>>
  attrInts(llvm::StringRef name) const;
  /// An INTS attribute that must hold `size` entries (a per-dim list:
  /// strides, pads, dilations...), or `fallback` repeated when absent.
  /// Reports a list of another length (naming what it should match) and
  /// returns failure.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  attrIntsOfSize(llvm::StringRef name, size_t size, int64_t fallback,
                 llvm::StringRef sizeOf);
  /// Whether an accessor found an attribute of the wrong type.
  bool hadAttributeError() const { return attributeError; }

  //===--- types and axes -------------------------------------------------===//
  static mlir::Type elementTypeOf(mlir::Value value);
  /// Rank of `value`, or -1 if unranked.
  static int64_t rankOf(mlir::Value value);
  /// Resolves a possibly negative axis against `rank`, or reports an error.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);
  /// Resolves a list of axes; reports an error if any is out of range.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  normalizeAxes(llvm::ArrayRef<int64_t> axes, int64_t rank);

  //===--- building -------------------------------------------------------===//
  /// Builds `OpTy` with a placeholder result of `elementType`, then sets the
  /// result type from the op's shape inference.
  template <typename OpTy, typename... Args>
  mlir::FailureOr<mlir::Value> create(mlir::Type elementType, Args &&...args) {
    auto op =
        builder.create<OpTy>(loc, mlir::UnrankedTensorType::get(elementType),
                             std::forward<Args>(args)...);
    if (mlir::failed(inferResultTypesInPlace(op.getOperation())))
      return mlir::failure();
    return foldAtImport(op.getOperation());
  }
  /// An i64 constant: 1-D of `values.size()`, or rank 0 when `scalar`.
  mlir::Value constantI64(llvm::ArrayRef<int64_t> values, bool scalar = false);
  /// A rank-0 constant of `elementType` holding `value`.
  mlir::Value constantScalar(mlir::Type elementType, double value);

  /// Starts an error message that names the node and its op type.
  mlir::InFlightDiagnostic error();

  /// Pushes a result, or propagates a failure.
  mlir::LogicalResult produce(mlir::FailureOr<mlir::Value> value) {
    if (mlir::failed(value))
      return mlir::failure();
    results.push_back(*value);
    return mlir::success();
  }

private:
  llvm::SmallVector<mlir::Value> inputs;
  mutable bool attributeError = false;
};

/// Imports one node; pushes its results onto ctx.results.
using OpHandler = mlir::LogicalResult (*)(NodeContext &ctx);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXNODECONTEXT_H
