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
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t attrInt(llvm::StringRef name, int64_t fallback) const;
  float attrFloat(llvm::StringRef name, float fallback) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef fallback) const;
  std::optional<llvm::SmallVector<int64_t>>
  attrInts(llvm::StringRef name) const;

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
};

/// Imports one node; pushes its results onto ctx.results.
using OpHandler = mlir::LogicalResult (*)(NodeContext &ctx);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXNODECONTEXT_H
