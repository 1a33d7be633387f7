//===- OnnxNodeContext.cpp - what an op importer sees of a node -----------===//

#include "compiler/Import/Onnx/OnnxNodeContext.h"
#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/Verifier.h"

#include "onnx/onnx_pb.h"

using namespace mlir;

namespace anvil::onnx_import {

LogicalResult inferResultTypesInPlace(Operation *op) {
  auto infer = dyn_cast<InferShapeOpInterface>(op);
  if (!infer)
    return success();
  SmallVector<Type> types;
  if (failed(infer.inferResultTypes(types)))
    return failure();
  for (auto [result, type] : llvm::zip(op->getResults(), types))
    result.setType(type);
  // Also checks the ODS constraints (e.g. pooling only on floats), so the
  // importer never hands on IR that does not verify.
  return verify(op);
}

InFlightDiagnostic NodeContext::error() {
  InFlightDiagnostic diag = emitError(loc);
  diag << node.op_type() << ": ";
  return diag;
}

Value NodeContext::requiredInput(size_t i, StringRef what) {
  Value value = input(i);
  if (!value)
    error() << "missing required input " << i << " (" << what << ")";
  return value;
}

FailureOr<std::optional<SmallVector<int64_t>>>
NodeContext::constantIntsInput(size_t i, StringRef what) {
  Value value = input(i);
  if (!value)
    return std::optional<SmallVector<int64_t>>();
  std::optional<SmallVector<int64_t>> ints = getConstantInts(value);
  if (!ints) {
    error() << "input " << i << " (" << what
            << ") must be a compile-time constant; bind the model's dynamic "
               "dimensions (--dim, --input-shape) so it can be folded";
    return failure();
  }
  return ints;
}

FailureOr<std::optional<SmallVector<int64_t>>>
NodeContext::axesAttrOrInput(size_t inputIndex) {
  if (auto given = attrInts("axes"))
    return std::optional<SmallVector<int64_t>>(*given);
  return constantIntsInput(inputIndex, "axes");
}

FailureOr<std::optional<double>>
NodeContext::constantScalarInput(size_t i, StringRef what) {
  Value value = input(i);
  if (!value)
    return std::optional<double>();
  auto constant = value.getDefiningOp<ConstantOp>();
  std::optional<ConstantTensor> tensor =
      constant ? readConstant(constant.getValue()) : std::nullopt;
  if (!tensor || tensor->size() != 1) {
    error() << "input " << i << " (" << what
            << ") must be a compile-time constant scalar";
    return failure();
  }
  return std::optional<double>(tensor->asDouble(0));
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::attrInt(StringRef name, int64_t fallback) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : fallback;
}

float NodeContext::attrFloat(StringRef name, float fallback) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : fallback;
}

std::string NodeContext::attrString(StringRef name, StringRef fallback) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : fallback.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::attrInts(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

Type NodeContext::elementTypeOf(Value value) {
  return value.getType().cast<TensorType>().getElementType();
}

int64_t NodeContext::rankOf(Value value) {
  auto type = value.getType().dyn_cast<RankedTensorType>();
  return type ? type.getRank() : -1;
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank) {
  if (rank < 0) {
    error() << "needs an input of known rank";
    return failure();
  }
  if (axis < -rank || axis >= rank) {
    error() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

FailureOr<SmallVector<int64_t>>
NodeContext::normalizeAxes(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = normalizeAxis(axis, rank);
    if (failed(a))
      return failure();
    result.push_back(*a);
  }
  return result;
}

Value NodeContext::constantI64(ArrayRef<int64_t> values, bool scalar) {
  auto type = RankedTensorType::get(
      scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)values.size()},
      builder.getI64Type());
  return builder.create<ConstantOp>(loc, buildDense(type, values));
}

Value NodeContext::constantScalar(Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  return builder.create<ConstantOp>(loc,
                                    buildDense(type, ArrayRef<double>{value}));
}

} // namespace anvil::onnx_import
