//===- KernelOps.cpp - the kernel program dialect -------------------------===//

#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/WeightData.h"
#include "dialects/ElementTypes.h"

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

Type signless(Type type) {
  if (auto integer = type.dyn_cast<IntegerType>();
      integer && !integer.isSignless())
    return IntegerType::get(type.getContext(), integer.getWidth());
  return type;
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

} // namespace anvil::kernel

namespace {
/// Kernel programs are statically shaped, row-major and contiguous.
LogicalResult verifyPlainBuffer(Operation *op, Type type) {
  auto memref = type.cast<MemRefType>();
  if (!memref.hasStaticShape())
    return op->emitOpError("needs a statically shaped buffer, got ") << type;
  if (!memref.getLayout().isIdentity())
    return op->emitOpError("needs a row-major buffer, got ") << type;
  if (anvil::elementBits(memref.getElementType()) % 8 != 0)
    return op->emitOpError("has sub-byte elements, which buffers hold only "
                           "packed two to a ui8: ")
           << type;
  return success();
}
} // namespace

LogicalResult AllocOp::verify() { return verifyPlainBuffer(*this, getType()); }

LogicalResult BufferOp::verify() {
  if (getOffsetAttr().getInt() < 0)
    return emitOpError("offset must not be negative");
  return verifyPlainBuffer(*this, getType());
}

LogicalResult WeightOp::verify() {
  if (failed(verifyPlainBuffer(*this, getType())))
    return failure();
  auto valueType = getValue().getType().cast<ShapedType>();
  SmallVector<int64_t> stored(valueType.getShape());
  if (std::optional<StringRef> layout = getLayout()) {
    if (*layout != kWeightLayoutKN)
      return emitOpError("has the unknown layout '")
             << *layout << "' (known: '" << kWeightLayoutKN << "')";
    if (valueType.getRank() != 2)
      return emitOpError("layout '")
             << *layout << "' needs a rank-2 value, not " << valueType;
    std::swap(stored[0], stored[1]);
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
  if (failed(verifyPlainBuffer(*this, from)) ||
      failed(verifyPlainBuffer(*this, to)))
    return failure();
  if (from.getElementType() != to.getElementType())
    return emitOpError("cannot change the element type");
  if (from.hasStaticShape() && from.getNumElements() != to.getNumElements())
    return emitOpError("views ")
           << from << " as " << to << ", which has another element count";
  return success();
}

LogicalResult ElementwiseOp::verify() {
  auto output = getOutput().getType().cast<MemRefType>();
  if (failed(verifyPlainBuffer(*this, output)))
    return failure();
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("region takes ")
           << body.getNumArguments() << " scalars for " << getInputs().size()
           << " inputs";
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    auto type = input.getType().cast<MemRefType>();
    if (!broadcastsTo(type.getShape(), output.getShape()))
      return emitOpError("input #") << index << " of type " << type
                                    << " does not broadcast to " << output;
    if (body.getArgument(index).getType() != signless(type.getElementType()))
      return emitOpError("region argument #")
             << index << " must be " << signless(type.getElementType());
  }
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("region must end with kernel.yield");
  if (yield.getValue().getType() != signless(output.getElementType()))
    return emitOpError("region yields ")
           << yield.getValue().getType() << " for a buffer of "
           << output.getElementType();
  return success();
}

#define GET_OP_CLASSES
#include "dialects/Kernel/KernelOps.cpp.inc"
