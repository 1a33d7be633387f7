//===- AnvilToKernel.cpp - bufferize anvil functions into kernel programs -===//
//
// Every tensor becomes a buffer: graph inputs and outputs become the
// function's arguments, intermediates `kernel.alloc`s, constants
// `kernel.weight`s. Reshapes become views of the same bytes; elementwise ops
// become one-op `kernel.elementwise` loops (fused later); data movement
// (transpose, slice, concat, split, expand) becomes strided copies; the rest
// become launches of the target's kernels with normalized static parameters
// (the kernel library sees `outer/size/inner` extents, never ONNX axes).
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"
#include "compiler/Lowering/ScalarOps.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <numeric>

namespace anvil {
#define GEN_PASS_DEF_CONVERTANVILTOKERNEL
#include "compiler/Lowering/Passes.h.inc"
} // namespace anvil

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::lowering {
namespace {

int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

ArrayRef<int64_t> shapeOf(Value value) {
  return value.getType().cast<ShapedType>().getShape();
}

/// A splat element as an `arith.constant` (whose integers are signless).
Value scalarFromSplat(OpBuilder &b, Location loc, Attribute splat) {
  if (auto integer = splat.dyn_cast<IntegerAttr>())
    splat = IntegerAttr::get(signless(integer.getType()), integer.getValue());
  return b.create<arith::ConstantOp>(loc, cast<TypedAttr>(splat));
}

class FunctionBufferizer {
public:
  explicit FunctionBufferizer(func::FuncOp func)
      : func(func), b(func.getContext()) {}

  LogicalResult run();

private:
  func::FuncOp func;
  OpBuilder b;
  DenseMap<Value, Value> buffers;

  LogicalResult checkStaticShapes();
  void rewriteSignature(SmallVectorImpl<Value> &outputs);
  void bindOutputs(Operation *terminator, ArrayRef<Value> outputs);

  MemRefType bufferType(Value tensor) {
    auto type = tensor.getType().cast<ShapedType>();
    return MemRefType::get(type.getShape(), type.getElementType());
  }
  /// The buffer holding `tensor`; constants become weights on first use.
  Value input(Value tensor);
  Value alloc(Value result) {
    Value buffer = b.create<AllocOp>(result.getLoc(), bufferType(result));
    buffers[result] = buffer;
    return buffer;
  }
  Value allocTemp(Location loc, ArrayRef<int64_t> shape, Type element) {
    return b.create<AllocOp>(loc, MemRefType::get(shape, element));
  }
  void launch(Location loc, StringRef kernel, ValueRange ins, ValueRange outs,
              ArrayRef<NamedAttribute> params) {
    b.create<LaunchOp>(loc, b.getStringAttr(kernel), ins, outs,
                       b.getDictionaryAttr(params));
  }
  NamedAttribute param(StringRef name, int64_t value) {
    return b.getNamedAttr(name, b.getI64IntegerAttr(value));
  }
  NamedAttribute param(StringRef name, ArrayRef<int64_t> values) {
    return b.getNamedAttr(name, b.getDenseI64ArrayAttr(values));
  }
  NamedAttribute flag(StringRef name, bool value) {
    return b.getNamedAttr(name, b.getBoolAttr(value));
  }
  NamedAttribute real(StringRef name, double value) {
    return b.getNamedAttr(name, b.getF64FloatAttr(value));
  }
  NamedAttribute text(StringRef name, StringRef value) {
    return b.getNamedAttr(name, b.getStringAttr(value));
  }

  /// dst[dst_offset + sum(i*dst_strides)] = src[src_offset +
  /// sum(i*src_strides)] over `shape`: transposes, slices, concatenation,
  /// splits, broadcasts.
  void copyStrided(Location loc, Value src, Value dst, ArrayRef<int64_t> shape,
                   int64_t srcOffset, ArrayRef<int64_t> srcStrides,
                   int64_t dstOffset, ArrayRef<int64_t> dstStrides);
  /// A contiguous copy of `src` with its dims permuted.
  Value transposed(Location loc, Value src, ArrayRef<int64_t> perm);
  /// `src` broadcast to `shape` (itself when it already has that shape).
  Value broadcastTo(Location loc, Value src, ArrayRef<int64_t> shape);

  LogicalResult lower(Operation *op);
  LogicalResult lowerElementwise(Operation *op);
  LogicalResult lowerView(Operation *op);
  LogicalResult lowerTranspose(TransposeOp op);
  LogicalResult lowerSlice(SliceOp op);
  LogicalResult lowerConcat(ConcatOp op);
  LogicalResult lowerSplit(SplitOp op);
  LogicalResult lowerMatmul(MatmulOp op);
  LogicalResult lowerAxisKernel(Operation *op, StringRef kernel, int64_t axis,
                                ArrayRef<NamedAttribute> extra);
  LogicalResult lowerReduce(ReduceOp op);
  LogicalResult lowerLayerNorm(LayerNormOp op);
  LogicalResult lowerRmsNorm(RmsNormOp op);
  LogicalResult lowerGather(GatherOp op);
  LogicalResult lowerGatherElements(GatherElementsOp op);
  LogicalResult lowerScatterNd(ScatterNdOp op);
  LogicalResult lowerTrilu(TriluOp op);
  LogicalResult lowerConv(ConvOp op);
  LogicalResult lowerPool(PoolOp op);
  LogicalResult lowerPad(PadOp op);
  LogicalResult lowerTile(TileOp op);
  LogicalResult lowerFill(FillOp op);
  LogicalResult lowerRange(RangeOp op);
  LogicalResult lowerAttention(AttentionOp op);
  LogicalResult lowerRope(RopeOp op);
};

LogicalResult FunctionBufferizer::checkStaticShapes() {
  bool ok = true;
  for (BlockArgument arg : func.getArguments()) {
    auto type = arg.getType().dyn_cast<RankedTensorType>();
    if (type && type.hasStaticShape())
      continue;
    auto name =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
    func.emitError() << "input '" << (name ? name.getValue() : "?")
                     << "' has the dynamic type " << arg.getType()
                     << "; code generation needs static shapes: bind its "
                        "symbolic dims with --dim=NAME=SIZE or set the shape "
                        "with --input-shape";
    ok = false;
  }
  if (!ok)
    return failure();
  func.walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      auto type = result.getType().dyn_cast<RankedTensorType>();
      if (type && !type.hasStaticShape()) {
        op->emitOpError("result has the dynamic type ")
            << type << " although every input is static";
        ok = false;
      }
    }
  });
  return success(ok);
}

void FunctionBufferizer::rewriteSignature(SmallVectorImpl<Value> &outputs) {
  Block &body = func.getBody().front();
  SmallVector<Type> argTypes;
  for (BlockArgument arg : body.getArguments()) {
    arg.setType(bufferType(arg));
    argTypes.push_back(arg.getType());
    buffers[arg] = arg;
  }
  SmallVector<DictionaryAttr> argAttrs;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    argAttrs.push_back(func.getArgAttrDict(i));
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto type = func.getFunctionType().getResult(i).cast<ShapedType>();
    auto memref = MemRefType::get(type.getShape(), type.getElementType());
    outputs.push_back(body.addArgument(memref, func.getLoc()));
    argTypes.push_back(memref);
    argAttrs.push_back(func.getResultAttrDict(i));
  }
  int64_t numInputs = func.getNumArguments();
  func.setType(FunctionType::get(func.getContext(), argTypes, {}));
  for (auto [i, attrs] : llvm::enumerate(argAttrs))
    if (attrs)
      func.setArgAttrs(i, attrs);
  func->removeAttr(func.getResAttrsAttrName());
  func->setAttr(kNumInputsAttr, b.getI64IntegerAttr(numInputs));
}

Value FunctionBufferizer::input(Value tensor) {
  if (Value buffer = buffers.lookup(tensor))
    return buffer;
  auto constant = tensor.getDefiningOp<ConstantOp>();
  assert(constant && "operands are lowered before their users");
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(constant);
  Value weight = b.create<WeightOp>(constant.getLoc(), bufferType(tensor),
                                    constant.getValue(), IntegerAttr());
  buffers[tensor] = weight;
  return weight;
}

void FunctionBufferizer::copyStrided(Location loc, Value src, Value dst,
                                     ArrayRef<int64_t> shape, int64_t srcOffset,
                                     ArrayRef<int64_t> srcStrides,
                                     int64_t dstOffset,
                                     ArrayRef<int64_t> dstStrides) {
  if (product(shape) == 0)
    return;
  launch(loc, "copy_strided", src, dst,
         {param("rank", (int64_t)shape.size()), param("shape", shape),
          param("src_offset", srcOffset), param("src_strides", srcStrides),
          param("dst_offset", dstOffset), param("dst_strides", dstStrides)});
}

Value FunctionBufferizer::transposed(Location loc, Value src,
                                     ArrayRef<int64_t> perm) {
  auto type = src.getType().cast<MemRefType>();
  SmallVector<int64_t> shape, srcStrides;
  SmallVector<int64_t> strides = rowMajorStrides(type.getShape());
  for (int64_t p : perm) {
    shape.push_back(type.getShape()[p]);
    srcStrides.push_back(strides[p]);
  }
  Value dst = allocTemp(loc, shape, type.getElementType());
  copyStrided(loc, src, dst, shape, 0, srcStrides, 0, rowMajorStrides(shape));
  return dst;
}

Value FunctionBufferizer::broadcastTo(Location loc, Value src,
                                      ArrayRef<int64_t> shape) {
  auto type = src.getType().cast<MemRefType>();
  if (type.getShape() == shape)
    return src;
  if (type.getNumElements() == product(shape))
    return b.create<ViewOp>(loc, MemRefType::get(shape, type.getElementType()),
                            src);
  Value dst = allocTemp(loc, shape, type.getElementType());
  auto copy = b.create<ElementwiseOp>(loc, ValueRange{src}, dst);
  Block *block = b.createBlock(&copy.getBody(), {},
                               {signless(type.getElementType())}, {loc});
  b.create<YieldOp>(loc, block->getArgument(0));
  b.setInsertionPointAfter(copy);
  return dst;
}

LogicalResult FunctionBufferizer::lowerElementwise(Operation *op) {
  Location loc = op->getLoc();
  Value result = op->getResult(0);
  // Splat constants become scalars inside the loop, not buffers.
  SmallVector<Value> ins;
  SmallVector<std::pair<bool, Attribute>> operandKinds;
  for (Value operand :
       op->getOperands().take_front(elementwiseDataOperands(op))) {
    auto constant = operand.getDefiningOp<ConstantOp>();
    auto dense = constant ? constant.getValue().dyn_cast<DenseElementsAttr>()
                          : DenseElementsAttr();
    if (dense && dense.isSplat()) {
      operandKinds.push_back({false, dense.getSplatValue<Attribute>()});
      continue;
    }
    operandKinds.push_back({true, Attribute()});
    ins.push_back(input(operand));
  }
  Value out = alloc(result);
  auto loop = b.create<ElementwiseOp>(loc, ins, out);
  SmallVector<Type> argTypes;
  for (Value in : ins)
    argTypes.push_back(
        signless(in.getType().cast<MemRefType>().getElementType()));
  SmallVector<Location> argLocs(argTypes.size(), loc);
  Block *block = b.createBlock(&loop.getBody(), {}, argTypes, argLocs);
  SmallVector<Value> scalars;
  unsigned next = 0;
  for (auto &[isBuffer, splat] : operandKinds) {
    if (isBuffer)
      scalars.push_back(block->getArgument(next++));
    else
      scalars.push_back(scalarFromSplat(b, loc, splat));
  }
  Value value = buildScalar(b, op, scalars);
  if (!value)
    return failure();
  b.create<YieldOp>(loc, value);
  b.setInsertionPoint(op);
  return success();
}

LogicalResult FunctionBufferizer::lowerView(Operation *op) {
  Value source = input(op->getOperand(0));
  Value result = op->getResult(0);
  if (source.getType() == bufferType(result))
    buffers[result] = source;
  else
    buffers[result] =
        b.create<ViewOp>(op->getLoc(), bufferType(result), source);
  return success();
}

LogicalResult FunctionBufferizer::lowerTranspose(TransposeOp op) {
  ArrayRef<int64_t> inShape = shapeOf(op.getInput());
  SmallVector<int64_t> strides = rowMajorStrides(inShape), srcStrides;
  for (int64_t p : op.getPerm())
    srcStrides.push_back(strides[p]);
  Value out = alloc(op.getResult());
  ArrayRef<int64_t> outShape = shapeOf(op.getResult());
  copyStrided(op.getLoc(), input(op.getInput()), out, outShape, 0, srcStrides,
              0, rowMajorStrides(outShape));
  return success();
}

LogicalResult FunctionBufferizer::lowerSlice(SliceOp op) {
  auto starts = getConstantInts(op.getStarts());
  auto axes = getConstantInts(op.getAxes());
  auto steps = getConstantInts(op.getSteps());
  if (!starts || !axes || !steps)
    return op.emitOpError("needs constant starts, axes and steps to generate "
                          "code; bind the inputs they depend on");
  ArrayRef<int64_t> inShape = shapeOf(op.getInput());
  ArrayRef<int64_t> outShape = shapeOf(op.getResult());
  int64_t rank = inShape.size();
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  SmallVector<int64_t> srcStrides(inStrides);
  int64_t offset = 0;
  for (size_t i = 0; i < axes->size(); ++i) {
    int64_t axis = (*axes)[i] < 0 ? (*axes)[i] + rank : (*axes)[i];
    int64_t dim = inShape[axis], step = (*steps)[i], start = (*starts)[i];
    if (start < 0)
      start += dim;
    start = step > 0 ? std::clamp<int64_t>(start, 0, dim)
                     : std::clamp<int64_t>(start, 0, dim - 1);
    offset += start * inStrides[axis];
    srcStrides[axis] = inStrides[axis] * step;
  }
  Value out = alloc(op.getResult());
  copyStrided(op.getLoc(), input(op.getInput()), out, outShape, offset,
              srcStrides, 0, rowMajorStrides(outShape));
  return success();
}

LogicalResult FunctionBufferizer::lowerConcat(ConcatOp op) {
  ArrayRef<int64_t> outShape = shapeOf(op.getResult());
  int64_t axis = *normalizeAxis(op.getAxis(), outShape.size());
  SmallVector<int64_t> outStrides = rowMajorStrides(outShape);
  Value out = alloc(op.getResult());
  int64_t position = 0;
  for (Value in : op.getInputs()) {
    ArrayRef<int64_t> shape = shapeOf(in);
    copyStrided(op.getLoc(), input(in), out, shape, 0, rowMajorStrides(shape),
                position * outStrides[axis], outStrides);
    position += shape[axis];
  }
  return success();
}

LogicalResult FunctionBufferizer::lowerSplit(SplitOp op) {
  ArrayRef<int64_t> inShape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), inShape.size());
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  Value in = input(op.getInput());
  int64_t position = 0;
  for (Value result : op.getResults()) {
    ArrayRef<int64_t> shape = shapeOf(result);
    Value out = alloc(result);
    copyStrided(op.getLoc(), in, out, shape, position * inStrides[axis],
                inStrides, 0, rowMajorStrides(shape));
    position += shape[axis];
  }
  return success();
}

LogicalResult FunctionBufferizer::lowerMatmul(MatmulOp op) {
  SmallVector<int64_t> lhs(shapeOf(op.getLhs())), rhs(shapeOf(op.getRhs()));
  bool transposeRhs = op.getTransposeRhs();
  // numpy promotes 1-D operands to matrices.
  if (lhs.size() == 1)
    lhs.insert(lhs.begin(), 1);
  if (rhs.size() == 1)
    rhs.insert(transposeRhs ? rhs.begin() : rhs.end(), 1);
  int64_t m = lhs[lhs.size() - 2], k = lhs.back();
  int64_t n = transposeRhs ? rhs[rhs.size() - 2] : rhs.back();
  ArrayRef<int64_t> lhsBatch = ArrayRef<int64_t>(lhs).drop_back(2);
  ArrayRef<int64_t> rhsBatch = ArrayRef<int64_t>(rhs).drop_back(2);
  SmallVector<int64_t> batch, lhsStrides, rhsStrides;
  if (rhsBatch.empty() || product(rhsBatch) == 1) {
    // One weight matrix for every row: fold the batch into M.
    m *= product(lhsBatch);
  } else {
    SmallVector<int64_t> shape;
    if (failed(broadcastShapes(lhsBatch, rhsBatch, shape)))
      return op.emitOpError("batch dims do not broadcast");
    batch = shape;
    lhsStrides = broadcastStrides(lhsBatch, shape.size(), m * k);
    rhsStrides = broadcastStrides(rhsBatch, shape.size(), k * n);
  }
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "matmul", {input(op.getLhs()), input(op.getRhs())}, out,
         {param("m", m), param("n", n), param("k", k),
          flag("transpose_rhs", transposeRhs),
          param("batch_rank", (int64_t)batch.size()), param("batch", batch),
          param("lhs_batch_strides", lhsStrides),
          param("rhs_batch_strides", rhsStrides)});
  return success();
}

/// Kernels that work along one axis get the extents around it.
LogicalResult
FunctionBufferizer::lowerAxisKernel(Operation *op, StringRef kernel,
                                    int64_t axis,
                                    ArrayRef<NamedAttribute> extra) {
  ArrayRef<int64_t> shape = shapeOf(op->getOperand(0));
  auto normalized = normalizeAxis(axis, std::max<int64_t>(shape.size(), 1));
  if (!normalized)
    return op->emitOpError("axis ") << axis << " is out of range";
  int64_t a = *normalized;
  SmallVector<NamedAttribute> params(extra.begin(), extra.end());
  int64_t size = shape.empty() ? 1 : shape[a];
  params.push_back(param("outer", product(shape.take_front(a))));
  params.push_back(param("size", size));
  params.push_back(
      param("inner", shape.empty() ? 1 : product(shape.drop_front(a + 1))));
  Value in = input(op->getOperand(0));
  Value out = alloc(op->getResult(0));
  launch(op->getLoc(), kernel, in, out, params);
  return success();
}

LogicalResult FunctionBufferizer::lowerReduce(ReduceOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t rank = shape.size();
  SmallVector<bool> reduced(rank, op.getAxes().empty());
  for (int64_t axis : op.getAxes())
    reduced[*normalizeAxis(axis, rank)] = true;
  // Reduced dims must be one contiguous run; otherwise move them last.
  int64_t first = -1, last = -1;
  bool contiguous = true;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      continue;
    if (first < 0)
      first = i;
    else if (last != i - 1)
      contiguous = false;
    last = i;
  }
  Value in = input(op.getInput());
  int64_t outer, size, inner;
  if (first < 0) {
    outer = product(shape), size = 1, inner = 1;
  } else if (contiguous) {
    outer = product(shape.take_front(first));
    size = product(shape.slice(first, last - first + 1));
    inner = product(shape.drop_front(last + 1));
  } else {
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
      if (!reduced[i])
        perm.push_back(i);
    outer = product(SmallVector<int64_t>(
        llvm::map_range(perm, [&](int64_t i) { return shape[i]; })));
    for (int64_t i = 0; i < rank; ++i)
      if (reduced[i])
        perm.push_back(i);
    in = transposed(op.getLoc(), in, perm);
    size = product(shape) / std::max<int64_t>(outer, 1);
    if (outer == 0)
      size = 0;
    inner = 1;
  }
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "reduce", in, out,
         {text("kind", stringifyReduceKind(op.getKind())),
          param("outer", outer), param("size", size), param("inner", inner)});
  return success();
}

LogicalResult FunctionBufferizer::lowerLayerNorm(LayerNormOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), shape.size());
  ArrayRef<int64_t> normShape = shape.drop_front(axis);
  SmallVector<Value> ins{
      input(op.getInput()),
      broadcastTo(op.getLoc(), input(op.getScale()), normShape)};
  if (op.getBias())
    ins.push_back(broadcastTo(op.getLoc(), input(op.getBias()), normShape));
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "layer_norm", ins, out,
         {param("outer", product(shape.take_front(axis))),
          param("size", product(normShape)),
          real("epsilon", op.getEpsilon().convertToDouble()),
          flag("has_bias", (bool)op.getBias())});
  return success();
}

LogicalResult FunctionBufferizer::lowerRmsNorm(RmsNormOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  ArrayRef<int64_t> normShape = shape.take_back(1);
  Value scale = broadcastTo(op.getLoc(), input(op.getScale()), normShape);
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "rms_norm", {input(op.getInput()), scale}, out,
         {param("outer", product(shape.drop_back(1))),
          param("size", product(normShape)),
          real("epsilon", op.getEpsilon().convertToDouble()),
          flag("unit_offset", op.getUnitOffset())});
  return success();
}

LogicalResult FunctionBufferizer::lowerGather(GatherOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), shape.size());
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "gather", {input(op.getInput()), input(op.getIndices())},
         out,
         {param("outer", product(shape.take_front(axis))),
          param("axis_size", shape[axis]),
          param("inner", product(shape.drop_front(axis + 1))),
          param("count", product(shapeOf(op.getIndices())))});
  return success();
}

LogicalResult FunctionBufferizer::lowerGatherElements(GatherElementsOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t axis = *normalizeAxis(op.getAxis(), shape.size());
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "gather_elements",
         {input(op.getInput()), input(op.getIndices())}, out,
         {param("rank", (int64_t)shape.size()), param("axis", axis),
          param("in_shape", shape),
          param("index_shape", shapeOf(op.getIndices()))});
  return success();
}

LogicalResult FunctionBufferizer::lowerScatterNd(ScatterNdOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  ArrayRef<int64_t> indexShape = shapeOf(op.getIndices());
  int64_t depth = indexShape.empty() ? 0 : indexShape.back();
  Value out = alloc(op.getResult());
  Location loc = op.getLoc();
  copyStrided(loc, input(op.getInput()), out, shape, 0, rowMajorStrides(shape),
              0, rowMajorStrides(shape));
  launch(loc, "scatter_nd", {input(op.getIndices()), input(op.getUpdates())},
         out,
         {param("depth", depth), param("data_shape", shape),
          param("count", product(indexShape.drop_back(1))),
          param("slice", product(shape.drop_front(depth))),
          text("reduction", op.getReduction())});
  return success();
}

LogicalResult FunctionBufferizer::lowerTrilu(TriluOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "trilu", input(op.getInput()), out,
         {param("batch", product(shape.drop_back(2))),
          param("rows", shape[shape.size() - 2]), param("cols", shape.back()),
          param("k", op.getK()), flag("upper", op.getUpper())});
  return success();
}

/// Spatial parameters of conv and pool as 2-D (1-D gets a unit height).
struct Spatial2d {
  int64_t h, w, oh, ow, kh, kw;
  SmallVector<int64_t> strides, pads, dilations;
};

std::optional<Spatial2d> spatial2d(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                                   ArrayRef<int64_t> kernel,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> pads,
                                   ArrayRef<int64_t> dilations) {
  size_t dims = in.size() - 2;
  if (dims == 2)
    return Spatial2d{in[2],
                     in[3],
                     out[2],
                     out[3],
                     kernel[0],
                     kernel[1],
                     SmallVector<int64_t>(strides),
                     SmallVector<int64_t>(pads),
                     SmallVector<int64_t>(dilations)};
  if (dims == 1)
    return Spatial2d{1,
                     in[2],
                     1,
                     out[2],
                     1,
                     kernel[0],
                     {1, strides[0]},
                     {0, pads[0], 0, pads[1]},
                     {1, dilations[0]}};
  return std::nullopt;
}

LogicalResult FunctionBufferizer::lowerConv(ConvOp op) {
  ArrayRef<int64_t> in = shapeOf(op.getInput()), w = shapeOf(op.getWeight());
  auto s = spatial2d(in, shapeOf(op.getResult()), w.drop_front(2),
                     op.getStrides(), op.getPads(), op.getDilations());
  if (!s)
    return op.emitOpError("only 1-D and 2-D convolutions have a kernel yet");
  SmallVector<Value> ins{input(op.getInput()), input(op.getWeight())};
  if (op.getBias())
    ins.push_back(input(op.getBias()));
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "conv2d", ins, out,
         {param("n", in[0]), param("c", in[1]), param("h", s->h),
          param("w", s->w), param("m", w[0]), param("kh", s->kh),
          param("kw", s->kw), param("oh", s->oh), param("ow", s->ow),
          param("strides", s->strides), param("pads", s->pads),
          param("dilations", s->dilations), param("group", op.getGroup()),
          flag("has_bias", (bool)op.getBias())});
  return success();
}

LogicalResult FunctionBufferizer::lowerPool(PoolOp op) {
  ArrayRef<int64_t> in = shapeOf(op.getInput());
  int64_t spatial = in.size() - 2;
  if (spatial < 1 || spatial > 3)
    return op.emitOpError("only 1-D to 3-D pooling has a kernel yet");
  SmallVector<int64_t> dilations(spatial, 1);
  if (op.getDilations())
    dilations.assign(op.getDilations()->begin(), op.getDilations()->end());
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "pool", input(op.getInput()), out,
         {text("kind", stringifyPoolKind(op.getKind())),
          param("outer", in[0] * in[1]), param("rank", spatial),
          param("in_dims", in.drop_front(2)),
          param("out_dims", shapeOf(op.getResult()).drop_front(2)),
          param("kernel", op.getKernel()), param("strides", op.getStrides()),
          param("pads", op.getPads()), param("dilations", dilations),
          flag("count_include_pad", op.getCountIncludePad())});
  return success();
}

LogicalResult FunctionBufferizer::lowerPad(PadOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "pad", input(op.getInput()), out,
         {param("rank", (int64_t)shape.size()), param("in_shape", shape),
          param("out_shape", shapeOf(op.getResult())),
          param("pads", op.getPads()), text("mode", op.getMode()),
          real("value", op.getValue().convertToDouble())});
  return success();
}

LogicalResult FunctionBufferizer::lowerTile(TileOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "tile", input(op.getInput()), out,
         {param("rank", (int64_t)shape.size()), param("in_shape", shape),
          param("out_shape", shapeOf(op.getResult()))});
  return success();
}

LogicalResult FunctionBufferizer::lowerFill(FillOp op) {
  auto dense = op.getValue().dyn_cast<DenseElementsAttr>();
  if (!dense || !dense.isSplat())
    return op.emitOpError("needs a scalar fill value");
  Location loc = op.getLoc();
  Value out = alloc(op.getResult());
  auto loop = b.create<ElementwiseOp>(loc, ValueRange{}, out);
  b.createBlock(&loop.getBody());
  Value value = scalarFromSplat(b, loc, dense.getSplatValue<Attribute>());
  Type element = out.getType().cast<MemRefType>().getElementType();
  b.create<YieldOp>(loc, convertScalar(b, loc, value, signless(element), false,
                                       element.isUnsignedInteger()));
  b.setInsertionPoint(op);
  return success();
}

LogicalResult FunctionBufferizer::lowerRange(RangeOp op) {
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "range", {input(op.getStart()), input(op.getDelta())},
         out, {param("count", product(shapeOf(op.getResult())))});
  return success();
}

LogicalResult FunctionBufferizer::lowerAttention(AttentionOp op) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                    v = shapeOf(op.getValue());
  SmallVector<Value> ins{input(op.getQuery()), input(op.getKey()),
                         input(op.getValue())};
  // The mask's strides over [batch, q_heads, q_len, kv_len] (0: broadcast).
  SmallVector<int64_t> scores = {q[0], q[1], q[2], k[2]};
  SmallVector<int64_t> maskStrides(4, 0);
  if (Value mask = op.getMask()) {
    ArrayRef<int64_t> m = shapeOf(mask);
    if (!kernel::broadcastsTo(m, scores))
      return op.emitOpError("mask of shape ")
             << formatShape(m) << " does not broadcast to the scores "
             << formatShape(scores);
    maskStrides = broadcastStrides(m, 4);
    ins.push_back(input(mask));
  }
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "attention", ins, out,
         {param("batch", q[0]), param("q_heads", q[1]), param("kv_heads", k[1]),
          param("q_len", q[2]), param("kv_len", k[2]), param("head_dim", q[3]),
          param("value_dim", v[3]),
          real("scale", op.getScale().convertToDouble()),
          flag("causal", op.getCausal()), flag("has_mask", (bool)op.getMask()),
          param("mask_strides", maskStrides)});
  return success();
}

LogicalResult FunctionBufferizer::lowerRope(RopeOp op) {
  ArrayRef<int64_t> x = shapeOf(op.getInput());
  ArrayRef<int64_t> c = shapeOf(op.getCos());
  if (c != shapeOf(op.getSin()))
    return op.emitOpError("needs cos and sin tables of one shape");
  // The tables' strides over the input's dims (their last dim is half the
  // input's, stride 1; 0 where they broadcast).
  SmallVector<int64_t> lead(x.drop_back()), tableLead(c.drop_back());
  if (c.empty() || !kernel::broadcastsTo(tableLead, lead))
    return op.emitOpError("cos/sin tables of shape ")
           << formatShape(c) << " do not broadcast to " << formatShape(x);
  SmallVector<int64_t> strides =
      broadcastStrides(tableLead, lead.size(), c.back());
  strides.push_back(1);
  Value out = alloc(op.getResult());
  launch(op.getLoc(), "rope",
         {input(op.getInput()), input(op.getCos()), input(op.getSin())}, out,
         {param("rank", (int64_t)x.size()), param("shape", x),
          param("table_strides", strides),
          flag("interleaved", op.getInterleaved()),
          param("rotary_dim", (int64_t)op.getRotaryDim().value_or(0))});
  return success();
}

LogicalResult FunctionBufferizer::lower(Operation *op) {
  if (isElementwise(op))
    return lowerElementwise(op);
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](ConstantOp) { return success(); }) // weights on first use
      .Case<ReshapeOp, FlattenOp, UnsqueezeOp, SqueezeOp>(
          [&](Operation *view) { return lowerView(view); })
      .Case([&](TransposeOp t) { return lowerTranspose(t); })
      .Case([&](SliceOp s) { return lowerSlice(s); })
      .Case([&](ConcatOp c) { return lowerConcat(c); })
      .Case([&](SplitOp s) { return lowerSplit(s); })
      .Case([&](MatmulOp m) { return lowerMatmul(m); })
      .Case([&](SoftmaxOp s) {
        return lowerAxisKernel(s, "softmax", s.getAxis(),
                               {flag("log", s.getLog())});
      })
      .Case([&](ArgMaxOp a) {
        return lowerAxisKernel(
            a, "arg_reduce", a.getAxis(),
            {text("kind", "max"),
             flag("select_last_index", a.getSelectLastIndex())});
      })
      .Case([&](ArgMinOp a) {
        return lowerAxisKernel(
            a, "arg_reduce", a.getAxis(),
            {text("kind", "min"),
             flag("select_last_index", a.getSelectLastIndex())});
      })
      .Case([&](CumSumOp c) {
        return lowerAxisKernel(c, "cumsum", c.getAxis(),
                               {flag("exclusive", c.getExclusive()),
                                flag("reverse", c.getReverse())});
      })
      .Case([&](ReduceOp r) { return lowerReduce(r); })
      .Case([&](LayerNormOp l) { return lowerLayerNorm(l); })
      .Case([&](RmsNormOp r) { return lowerRmsNorm(r); })
      .Case([&](GatherOp g) { return lowerGather(g); })
      .Case([&](GatherElementsOp g) { return lowerGatherElements(g); })
      .Case([&](ScatterNdOp s) { return lowerScatterNd(s); })
      .Case([&](TriluOp t) { return lowerTrilu(t); })
      .Case([&](ConvOp c) { return lowerConv(c); })
      .Case([&](PoolOp p) { return lowerPool(p); })
      .Case([&](PadOp p) { return lowerPad(p); })
      .Case([&](TileOp t) { return lowerTile(t); })
      .Case([&](FillOp f) { return lowerFill(f); })
      .Case([&](RangeOp r) { return lowerRange(r); })
      .Case([&](AttentionOp a) { return lowerAttention(a); })
      .Case([&](RopeOp r) { return lowerRope(r); })
      .Default([&](Operation *other) {
        return other->emitOpError("has no lowering to the kernel dialect yet");
      });
}

void FunctionBufferizer::bindOutputs(Operation *terminator,
                                     ArrayRef<Value> outputs) {
  DenseSet<Operation *> claimed;
  for (auto [value, out] : llvm::zip(terminator->getOperands(), outputs)) {
    Value buffer = input(value);
    Value root = buffer;
    while (auto view = root.getDefiningOp<ViewOp>())
      root = view.getSource();
    auto allocOp = root.getDefiningOp<AllocOp>();
    if (allocOp && claimed.insert(allocOp).second) {
      // Compute straight into the output: the alloc becomes the output
      // (or a view of it, when the result was reshaped on the way out).
      b.setInsertionPoint(allocOp);
      Value replacement = out;
      if (allocOp.getType() != out.getType())
        replacement =
            b.create<ViewOp>(allocOp.getLoc(), allocOp.getType(), out);
      Value old = allocOp.getResult();
      old.replaceAllUsesWith(replacement);
      for (auto &entry : buffers)
        if (entry.second == old)
          entry.second = replacement;
      allocOp.erase();
      continue;
    }
    // Inputs, weights and results returned twice are copied.
    b.setInsertionPoint(terminator);
    ArrayRef<int64_t> shape = out.getType().cast<MemRefType>().getShape();
    SmallVector<int64_t> strides = rowMajorStrides(shape);
    Value source =
        buffer.getType() == out.getType()
            ? buffer
            : b.create<ViewOp>(value.getLoc(), out.getType(), buffer);
    copyStrided(value.getLoc(), source, out, shape, 0, strides, 0, strides);
  }
}

LogicalResult FunctionBufferizer::run() {
  if (func.isExternal() || func->hasAttr(kNumInputsAttr))
    return success();
  if (failed(checkStaticShapes()))
    return failure();
  SmallVector<Value> outputs;
  rewriteSignature(outputs);
  Block &body = func.getBody().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  bool ok = true;
  for (Operation *op : ops) {
    b.setInsertionPoint(op);
    if (succeeded(lower(op)))
      continue;
    // Keep going to report every op without a lowering: its users get
    // placeholder buffers (the pass fails anyway).
    ok = false;
    b.setInsertionPoint(op);
    for (Value result : op->getResults())
      if (!buffers.count(result))
        alloc(result);
  }
  if (!ok)
    return failure();
  Operation *terminator = body.getTerminator();
  bindOutputs(terminator, outputs);
  b.setInsertionPoint(terminator);
  b.create<func::ReturnOp>(terminator->getLoc());
  terminator->erase();
  for (Operation *op : llvm::reverse(ops))
    op->erase();
  // Views nothing reads (a reshape of a value that became an output buffer)
  // are dropped, innermost first.
  bool erased = true;
  while (erased) {
    erased = false;
    for (ViewOp view : llvm::make_early_inc_range(body.getOps<ViewOp>()))
      if (view->use_empty()) {
        view.erase();
        erased = true;
      }
  }
  return success();
}

struct ConvertAnvilToKernelPass
    : impl::ConvertAnvilToKernelBase<ConvertAnvilToKernelPass> {
  void runOnOperation() override {
    if (failed(FunctionBufferizer(getOperation()).run()))
      signalPassFailure();
  }
};

} // namespace
} // namespace anvil::lowering
