//===- IndexingOps.cpp - importers for ONNX indexing ops (issue #9) -------===//
//
// GatherND, ScatterElements (and the deprecated Scatter, which the version
// converter turns into ScatterElements for models below opset 13), TopK,
// and the small ops of issue #9 that build on existing anvil ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// Reports unless `indices` holds int32 or int64 elements.
LogicalResult checkIndexType(NodeContext &ctx, Value indices) {
  Type t = ctx.elementTypeOf(indices);
  if (t.isInteger(32) || t.isInteger(64) || t.isSignedInteger(32) ||
      t.isSignedInteger(64))
    return success();
  return ctx.error() << "indices must be int32 or int64, got " << t;
}

/// GatherND (opset 11+; batch_dims from 12): the last dim of `indices`
/// indexes dims [batch_dims, batch_dims + m) of `data`.
LogicalResult importGatherND(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices");
  if (!x || !indices || failed(checkIndexType(ctx, indices)))
    return failure();
  int64_t batchDims = ctx.attrInt("batch_dims", 0);
  if (batchDims < 0)
    return ctx.error() << "batch_dims " << batchDims << " is negative";
  return ctx.produce(
      ctx.create<GatherNdOp>(ctx.elementTypeOf(x), x, indices,
                             ctx.builder.getI64IntegerAttr(batchDims)));
}

/// ScatterElements (opset 11+; reduction add/mul from 16, max/min from 18).
LogicalResult importScatterElements(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices"),
        updates = ctx.requiredInput(2, "updates");
  if (!x || !indices || !updates || failed(checkIndexType(ctx, indices)))
    return failure();
  FailureOr<int64_t> axis =
      ctx.normalizeAxis(ctx.attrInt("axis", 0), ctx.rankOf(x));
  if (failed(axis))
    return failure();
  std::string reduction = ctx.attrString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return ctx.error() << "unknown reduction '" << reduction << "'";
  return ctx.produce(
      ctx.create<ScatterElementsOp>(ctx.elementTypeOf(x), x, indices, updates,
                                    ctx.builder.getI64IntegerAttr(*axis),
                                    ctx.builder.getStringAttr(reduction)));
}

/// TopK (opset 10+: k is input 1, which must be a compile-time constant).
/// `sorted` = 0 is accepted: the results come sorted, an order ONNX allows.
LogicalResult importTopK(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  int64_t rank = ctx.rankOf(x);
  if (rank < 1)
    return ctx.error() << "needs an input of known rank >= 1";
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  if (!ctx.requiredInput(1, "K"))
    return failure();
  auto k = ctx.constantIntsInput(1, "K");
  if (failed(k))
    return failure();
  if ((*k)->size() != 1)
    return ctx.error() << "K must hold one value, got " << (*k)->size();
  int64_t kValue = (**k)[0];
  if (kValue < 0)
    return ctx.error() << "K " << kValue << " is negative";
  int64_t dim = x.getType().cast<RankedTensorType>().getDimSize(*axis);
  if (dim != kDynamic && kValue > dim)
    return ctx.error() << "K " << kValue << " exceeds the size " << dim
                       << " of axis " << *axis;
  OpBuilder &b = ctx.builder;
  SmallVector<Type> placeholders{UnrankedTensorType::get(ctx.elementTypeOf(x)),
                                 UnrankedTensorType::get(b.getI64Type())};
  auto op =
      b.create<TopKOp>(ctx.loc, placeholders, x, b.getI64IntegerAttr(kValue),
                       b.getI64IntegerAttr(*axis),
                       b.getBoolAttr(ctx.attrInt("largest", 1) != 0));
  if (failed(inferResultTypesInPlace(op)))
    return failure();
  ctx.results.push_back(op.getValues());
  ctx.results.push_back(op.getIndices());
  return success();
}

} // namespace

void addIndexingOps(OpTable &t) {
  t.add("", "GatherND", importGatherND);
  t.add("", "ScatterElements", importScatterElements);
  t.add("", "TopK", importTopK);
}

} // namespace anvil::onnx_import
