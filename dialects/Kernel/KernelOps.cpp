//===- KernelOps.cpp - the kernel program dialect -------------------------===//

#include "dialects/Kernel/KernelOps.h"
#include "dialects/ElementTypes.h"
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/WeightData.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace anvil::kernel;

#include "dialects/Kernel/KernelDialect.cpp.inc"

void KernelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Kernel/KernelOps.cpp.inc"
      >();
}

namespace anvil::kernel {

int64_t elementBytes(Type type) {
  int64_t bits = elementBits(type);
  assert(bits % 8 == 0 && "sub-byte values are packed in ui8 buffers; the "
                          "kernel verifier refuses sub-byte element types");
  return bits / 8;
}

int64_t bufferBytes(MemRefType type) {
  return (type.getNumElements() * elementBits(type.getElementType()) + 7) / 8;
}

bool broadcastsTo(ArrayRef<int64_t> input, ArrayRef<int64_t> output) {
  if (input.size() > output.size())
    return false;
  size_t lead = output.size() - input.size();
  for (size_t i = 0; i < input.size(); ++i)
    if (input[i] != 1 && input[i] != output[lead + i])
      return false;
  return true;
}

SmallVector<int64_t> broadcastStrides(ArrayRef<int64_t> shape, size_t rank,
                                      int64_t innermost) {
  assert(shape.size() <= rank && "more dims than the broadcast rank");
  SmallVector<int64_t> strides(rank, 0);
  int64_t stride = innermost;
  for (int64_t i = (int64_t)shape.size() - 1; i >= 0; --i) {
    strides[rank - shape.size() + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

SmallVector<AffineExpr> broadcastStrides(ArrayRef<AffineExpr> shape,
                                         size_t rank, AffineExpr innermost) {
  assert(shape.size() <= rank && "more dims than the broadcast rank");
  MLIRContext *context = innermost.getContext();
  SmallVector<AffineExpr> strides(rank, getAffineConstantExpr(0, context));
  AffineExpr stride = innermost;
  for (int64_t i = (int64_t)shape.size() - 1; i >= 0; --i) {
    auto one = shape[i].dyn_cast<AffineConstantExpr>();
    strides[rank - shape.size() + i] =
        one && one.getValue() == 1 ? getAffineConstantExpr(0, context) : stride;
    stride = stride * shape[i];
  }
  return strides;
}

bool broadcastsTo(ArrayRef<AffineExpr> input, ArrayRef<AffineExpr> output) {
  if (input.size() > output.size())
    return false;
  size_t lead = output.size() - input.size();
  for (size_t i = 0; i < input.size(); ++i) {
    auto c = input[i].dyn_cast<AffineConstantExpr>();
    if (!(c && c.getValue() == 1) && input[i] != output[lead + i])
      return false;
  }
  return true;
}

namespace {
AffineMapAttr dimsAttrOf(Value buffer) {
  if (auto arg = buffer.dyn_cast<BlockArgument>()) {
    auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    return func ? func.getArgAttrOfType<AffineMapAttr>(arg.getArgNumber(),
                                                       kDimsAttr)
                : AffineMapAttr();
  }
  Operation *op = buffer.getDefiningOp();
  return op ? op->getAttrOfType<AffineMapAttr>(kDimsAttr) : AffineMapAttr();
}
} // namespace

std::optional<EpilogueAccess> epilogueAccess(Value operand, Value output,
                                             int64_t colDims) {
  SmallVector<AffineExpr> in = getBufferDims(operand);
  SmallVector<AffineExpr> out = getBufferDims(output);
  auto inType = operand.getType().cast<MemRefType>();
  auto outType = output.getType().cast<MemRefType>();
  if ((int64_t)in.size() != inType.getRank() ||
      (int64_t)out.size() != outType.getRank() || colDims < 1 ||
      (int64_t)out.size() < colDims || in.size() > out.size())
    return std::nullopt;
  MLIRContext *context = output.getContext();
  AffineExpr zero = getAffineConstantExpr(0, context);
  AffineExpr one = getAffineConstantExpr(1, context);
  // Right-aligned: the operand's missing leading dims are 1s.
  SmallVector<AffineExpr> dims(out.size() - in.size(), one);
  dims.append(in.begin(), in.end());
  const size_t firstCol = out.size() - colDims;
  EpilogueAccess access;
  bool sameCols = true, onesCols = true;
  AffineExpr cols = one; // the operand's elements per row
  for (size_t d = firstCol; d < out.size(); ++d) {
    sameCols &= dims[d] == out[d];
    onesCols &= dims[d] == one;
    cols = cols * dims[d];
  }
  if (sameCols)
    access.colStride = one;
  else if (onesCols)
    access.colStride = zero;
  else
    return std::nullopt;
  bool same = true, ones = true;
  for (size_t d = 0; d < firstCol; ++d) {
    same &= dims[d] == out[d];
    ones &= dims[d] == one;
  }
  if (ones)
    access.rowStride = zero;
  else if (same) // the output's rows, each of the operand's columns
    access.rowStride = cols;
  else
    return std::nullopt;
  return access;
}

int64_t epilogueColumnDims(LaunchOp launch) {
  if (launch.getKernel() != "conv2d" || launch.getOutputs().size() != 1)
    return 1;
  return std::max<int64_t>(
      1, launch.getOutputs()[0].getType().cast<MemRefType>().getRank() - 2);
}

SmallVector<AffineExpr> getBufferDims(Value buffer) {
  auto type = buffer.getType().cast<MemRefType>();
  MLIRContext *context = type.getContext();
  SmallVector<AffineExpr> dims;
  AffineMapAttr map = dimsAttrOf(buffer);
  for (auto [i, size] : llvm::enumerate(type.getShape())) {
    if (size != ShapedType::kDynamic) {
      dims.push_back(getAffineConstantExpr(size, context));
      continue;
    }
    if (!map || map.getValue().getNumResults() != type.getRank())
      return {};
    dims.push_back(map.getValue().getResult(i));
  }
  return dims;
}

void setBufferDims(Operation *op, ArrayRef<AffineExpr> dims) {
  if (llvm::all_of(dims,
                   [](AffineExpr e) { return e.isa<AffineConstantExpr>(); }))
    return;
  unsigned sizes = numSizes(op);
  SmallVector<AffineExpr> simplified;
  for (AffineExpr e : dims)
    simplified.push_back(simplifyAffineExpr(e, 0, sizes));
  op->setAttr(kDimsAttr, AffineMapAttr::get(AffineMap::get(0, sizes, simplified,
                                                           op->getContext())));
}

unsigned numSizes(Operation *op) {
  auto func = dyn_cast<func::FuncOp>(op);
  if (!func)
    func = op->getParentOfType<func::FuncOp>();
  if (!func)
    return 0;
  auto sizes = func->getAttrOfType<ArrayAttr>(kSizesAttr);
  return sizes ? sizes.size() : 0;
}

} // namespace anvil::kernel

namespace {
/// Kernel programs are row-major and contiguous; `?` dims need the bounded
/// sizes of the function (`kernel.sizes`) and an expression each
/// (`kernel.dims`), so that memory can be planned at the bounds.
LogicalResult verifyPlainBuffer(Operation *op, Type type,
                                Value buffer = nullptr) {
  auto memref = type.cast<MemRefType>();
  if (!memref.hasStaticShape()) {
    if (!buffer)
      return op->emitOpError("needs a statically shaped buffer, got ") << type;
    unsigned sizes = numSizes(op);
    if (sizes == 0)
      return op->emitOpError("has the dynamic buffer ")
             << type << " in a function without '" << kSizesAttr << "'";
    auto map = op->getAttrOfType<AffineMapAttr>(kDimsAttr);
    if (!map)
      return op->emitOpError("has the dynamic buffer ")
             << type << " without '" << kDimsAttr << "'";
    AffineMap m = map.getValue();
    if (m.getNumDims() != 0 || m.getNumSymbols() > sizes ||
        m.getNumResults() != memref.getRank())
      return op->emitOpError("'")
             << kDimsAttr << "' must map the " << sizes
             << " sizes to the buffer's " << memref.getRank() << " dims";
    for (auto [i, size] : llvm::enumerate(memref.getShape())) {
      auto c = m.getResult(i).dyn_cast<AffineConstantExpr>();
      if (size != ShapedType::kDynamic && (!c || c.getValue() != size))
        return op->emitOpError("'")
               << kDimsAttr << "' gives dim " << i
               << " another value than its static size " << size;
    }
  }
  if (!memref.getLayout().isIdentity())
    return op->emitOpError("needs a row-major buffer, got ") << type;
  if (anvil::elementBits(memref.getElementType()) % 8 != 0)
    return op->emitOpError("has sub-byte elements, which buffers hold only "
                           "packed two to a ui8: ")
           << type;
  return success();
}
} // namespace

LogicalResult AllocOp::verify() {
  return verifyPlainBuffer(*this, getType(), getResult());
}

LogicalResult BufferOp::verify() {
  if (getOffsetAttr().getInt() < 0)
    return emitOpError("offset must not be negative");
  return verifyPlainBuffer(*this, getType(), getResult());
}

LogicalResult WeightOp::verify() {
  if (failed(verifyPlainBuffer(*this, getType())))
    return failure();
  auto valueType = getValue().getType().cast<ShapedType>();
  SmallVector<int64_t> stored(valueType.getShape());
  std::optional<QuantPanelLayout> quant =
      getLayout() ? parseQuantPanelLayout(*getLayout()) : std::nullopt;
  if (quant) {
    int64_t bytes = quantPanelStoredBytes(*quant, valueType);
    if (bytes < 0)
      return emitOpError("layout '") << *getLayout()
                                     << "' needs a static 8-bit value of rank "
                                        "2 (or more, without _kn), not "
                                     << valueType;
    stored.assign({bytes});
  } else if (std::optional<StringRef> layout = getLayout()) {
    stored = storedWeightShape(*layout, valueType);
    if (stored.empty() && *layout == kWeightLayoutRowTiles)
      return emitOpError("layout '")
             << *layout << "' needs a static value of rank 2 or more, not "
             << valueType;
    if (stored.empty() && valueType.getRank() != 2)
      return emitOpError("layout '")
             << *layout << "' needs a rank-2 value"
             << (*layout == kWeightLayoutNKPanels ? " (or a static one of "
                                                    "higher rank)"
                                                  : "")
             << ", not " << valueType;
    if (stored.empty())
      return emitOpError("has the unknown layout '")
             << *layout << "' (known: " << knownWeightLayouts() << ")";
  }
  if (ArrayRef<int64_t>(stored) != getType().getShape() ||
      valueType.getElementType() != getType().getElementType())
    return emitOpError("value of type ")
           << valueType << " does not match the buffer " << getType()
           << (getLayout() ? " in layout '" + getLayout()->str() + "'" : "");
  if (getOffsetAttr() && getOffsetAttr().getInt() < 0)
    return emitOpError("offset must not be negative");
  return success();
}

LogicalResult ViewOp::verify() {
  auto from = getSource().getType().cast<MemRefType>();
  auto to = getType().cast<MemRefType>();
  if (!from.getLayout().isIdentity())
    return emitOpError("needs a row-major buffer, got ") << from;
  if (failed(verifyPlainBuffer(*this, to, getResult())))
    return failure();
  if (from.getElementType() != to.getElementType())
    return emitOpError("cannot change the element type");
  if (from.hasStaticShape() && to.hasStaticShape() &&
      from.getNumElements() != to.getNumElements())
    return emitOpError("views ")
           << from << " as " << to << ", which has another element count";
  return success();
}

LogicalResult LaunchOp::verify() {
  const KernelSpec *spec = lookupKernel(getKernel());
  if (!spec)
    return emitOpError("unknown kernel '")
           << getKernel() << "' (see dialects/Kernel/KernelCatalog.def)";
  unsigned inputs = getInputs().size();
  if (inputs < spec->minInputs || inputs > spec->maxInputs) {
    auto diag = emitOpError("kernel '") << spec->name << "' takes ";
    if (spec->minInputs == spec->maxInputs)
      diag << spec->minInputs;
    else
      diag << spec->minInputs << " to " << spec->maxInputs;
    return diag << " inputs, got " << inputs;
  }
  if (getOutputs().size() != spec->outputs)
    return emitOpError("kernel '") << spec->name << "' writes " << spec->outputs
                                   << " outputs, got " << getOutputs().size();
  for (auto [index, output] : llvm::enumerate(getOutputs()))
    if (llvm::is_contained(getInputs(), output))
      return emitOpError("output #") << index << " is also an input";
  for (NamedAttribute param : getParams())
    if (llvm::none_of(spec->params, [&](const ParamSpec &p) {
          return p.name == param.getName().getValue();
        }))
      return emitOpError("kernel '") << spec->name << "' has no parameter '"
                                     << param.getName().getValue() << "'";
  for (const ParamSpec &p : spec->params) {
    Attribute value = getParams().get(p.name);
    if (!value)
      return emitOpError("kernel '")
             << spec->name << "' needs parameter '" << p.name << "' ("
             << stringifyParamKind(p.kind) << ")";
    if (auto map = value.dyn_cast<AffineMapAttr>()) {
      // A size expression: only for run-time integers.
      if (p.isStatic)
        return emitOpError("parameter '")
               << p.name << "' is a compile-time constant of kernel '"
               << spec->name << "' and cannot depend on the sizes";
      if (p.kind != ParamKind::Int && p.kind != ParamKind::Ints)
        return emitOpError("parameter '")
               << p.name << "' must be " << stringifyParamKind(p.kind);
      AffineMap m = map.getValue();
      unsigned sizes = numSizes(*this);
      if (m.getNumDims() != 0 || m.getNumSymbols() > sizes)
        return emitOpError("parameter '")
               << p.name << "' must be an expression over the function's "
               << sizes << " sizes, got " << value;
      if (p.kind == ParamKind::Int && m.getNumResults() != 1)
        return emitOpError("parameter '")
               << p.name << "' must be one expression, got " << value;
      if ((int64_t)m.getNumResults() > p.capacity)
        return emitOpError("parameter '")
               << p.name << "' holds " << m.getNumResults()
               << " values; kernel '" << spec->name << "' takes at most "
               << p.capacity;
      continue;
    }
    bool ok = false;
    switch (p.kind) {
    case ParamKind::Int: {
      auto i = value.dyn_cast<IntegerAttr>();
      ok = i && i.getType().isInteger(64);
      break;
    }
    case ParamKind::Bool:
      ok = value.isa<BoolAttr>();
      break;
    case ParamKind::Real: {
      auto f = value.dyn_cast<FloatAttr>();
      ok = f && f.getType().isF64();
      break;
    }
    case ParamKind::Str:
      ok = value.isa<StringAttr>();
      if (ok && (int64_t)value.cast<StringAttr>().size() >= kMaxStringParam)
        return emitOpError("parameter '")
               << p.name << "' is longer than " << kMaxStringParam - 1
               << " characters";
      break;
    case ParamKind::Ints:
      ok = value.isa<DenseI64ArrayAttr>();
      if (ok && value.cast<DenseI64ArrayAttr>().size() > p.capacity)
        return emitOpError("parameter '")
               << p.name << "' holds " << value.cast<DenseI64ArrayAttr>().size()
               << " values; kernel '" << spec->name << "' takes at most "
               << p.capacity;
      break;
    case ParamKind::Reals:
      ok = value.isa<DenseF64ArrayAttr>();
      if (ok && value.cast<DenseF64ArrayAttr>().size() > p.capacity)
        return emitOpError("parameter '")
               << p.name << "' holds " << value.cast<DenseF64ArrayAttr>().size()
               << " values; kernel '" << spec->name << "' takes at most "
               << p.capacity;
      break;
    }
    if (!ok)
      return emitOpError("parameter '")
             << p.name << "' must be " << stringifyParamKind(p.kind)
             << (p.kind == ParamKind::Int    ? " (i64)"
                 : p.kind == ParamKind::Real ? " (f64)"
                                             : "")
             << ", got " << value;
  }
  return success();
}

LogicalResult ElementwiseOp::verify() {
  auto output = getOutput().getType().cast<MemRefType>();
  SmallVector<AffineExpr> outputDims = getBufferDims(getOutput());
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("region takes ")
           << body.getNumArguments() << " scalars for " << getInputs().size()
           << " inputs";
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    auto type = input.getType().cast<MemRefType>();
    SmallVector<AffineExpr> inputDims = getBufferDims(input);
    bool broadcasts =
        type.hasStaticShape() && output.hasStaticShape()
            ? broadcastsTo(type.getShape(), output.getShape())
            : (int64_t)inputDims.size() == type.getRank() &&
                  (int64_t)outputDims.size() == output.getRank() &&
                  broadcastsTo(inputDims, outputDims);
    if (!broadcasts)
      return emitOpError("input #") << index << " of type " << type
                                    << " does not broadcast to " << output;
    if (body.getArgument(index).getType() !=
        signlessType(type.getElementType()))
      return emitOpError("region argument #")
             << index << " must be " << signlessType(type.getElementType());
  }
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("region must end with kernel.yield");
  if (yield.getValue().getType() != signlessType(output.getElementType()))
    return emitOpError("region yields ")
           << yield.getValue().getType() << " for a buffer of "
           << output.getElementType();
  return success();
}

#define GET_OP_CLASSES
#include "dialects/Kernel/KernelOps.cpp.inc"
