//===- ConstantValues.cpp - reading and building constant tensors ---------===//

#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/AnvilOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace anvil {

namespace {
thread_local int64_t threadFoldLimit = kFoldElementLimit;
} // namespace

int64_t foldElementLimit() { return threadFoldLimit; }

ScopedFoldElementLimit::ScopedFoldElementLimit(int64_t limit)
    : saved(threadFoldLimit) {
  threadFoldLimit = limit;
}

ScopedFoldElementLimit::~ScopedFoldElementLimit() { threadFoldLimit = saved; }

bool withinFoldLimit(ShapedType type, int64_t limit) {
  if (!type || !type.hasRank())
    return false;
  int64_t count = 1;
  for (int64_t dim : type.getShape()) {
    if (dim < 0) // dynamic, or negative from unchecked arithmetic
      return false;
    if (dim != 0 && count > limit / dim)
      return false;
    count *= dim;
  }
  return count <= limit;
}

static std::optional<ConstantTensor> readDense(DenseElementsAttr dense,
                                               int64_t limit) {
  auto type = dense.getType().dyn_cast<RankedTensorType>();
  if (!type || !withinFoldLimit(type, limit))
    return std::nullopt;
  ConstantTensor result;
  result.type = type;
  Type elementType = type.getElementType();
  if (auto floatType = elementType.dyn_cast<FloatType>()) {
    result.isFloat = true;
    for (APFloat value : dense.getValues<APFloat>()) {
      bool losesInfo;
      value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      result.floats.push_back(value.convertToDouble());
    }
    return result;
  }
  auto intType = elementType.dyn_cast<IntegerType>();
  if (!intType)
    return std::nullopt;
  bool zeroExtend = intType.isUnsigned() || intType.getWidth() == 1;
  for (APInt value : dense.getValues<APInt>())
    result.ints.push_back(zeroExtend ? (int64_t)value.getZExtValue()
                                     : value.getSExtValue());
  return result;
}

std::optional<ConstantTensor> readConstant(Attribute attr, int64_t limit) {
  if (auto dense = attr.dyn_cast_or_null<DenseElementsAttr>())
    return readDense(dense, limit);
  auto resource = attr.dyn_cast_or_null<DenseResourceElementsAttr>();
  if (!resource)
    return std::nullopt;
  auto type = resource.getType().dyn_cast<RankedTensorType>();
  if (!type || !withinFoldLimit(type, limit) ||
      type.getElementType().isInteger(1))
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  bool isSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, data, isSplat))
    return std::nullopt;
  return readDense(DenseElementsAttr::getFromRawBuffer(type, data), limit);
}

std::optional<ArrayRef<char>> rawConstantData(Attribute attr) {
  if (auto resource = attr.dyn_cast_or_null<DenseResourceElementsAttr>()) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    return blob->getData();
  }
  auto dense = attr.dyn_cast_or_null<DenseElementsAttr>();
  if (!dense || dense.isSplat())
    return std::nullopt;
  return dense.getRawData();
}

std::optional<SmallVector<int64_t>> getConstantInts(Value value,
                                                    int64_t limit) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  std::optional<ConstantTensor> tensor =
      readConstant(constant.getValue(), limit);
  if (!tensor || tensor->isFloat)
    return std::nullopt;
  return SmallVector<int64_t>(tensor->ints.begin(), tensor->ints.end());
}

double roundToFloatType(Type type, double value) {
  auto floatType = type.dyn_cast<FloatType>();
  if (!floatType || floatType.isF64())
    return value;
  if (floatType.isF32())
    return static_cast<float>(value);
  // 16-bit floats through float, as the kernels convert (their f16 and
  // bf16 are built from a float): a double just past a half-way point can
  // round to it in float first.
  APFloat f(static_cast<float>(value));
  bool lost = false;
  f.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
  f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return f.convertToDouble();
}

int64_t floatToInt(double value, unsigned width, bool isUnsigned) {
  if (width == 1)
    return value != 0; // NaN included, as ONNX Cast to bool.
  long double lo = isUnsigned ? 0.0L : -std::ldexp(1.0L, width - 1);
  long double hi =
      isUnsigned ? std::ldexp(1.0L, width) : std::ldexp(1.0L, width - 1);
  long double x = value;
  if (!(x > lo - 1.0L && x < hi)) {
    if (isUnsigned)
      return 0;
    return width >= 64 ? std::numeric_limits<int64_t>::min()
                       : -(int64_t(1) << (width - 1));
  }
  if (isUnsigned)
    return static_cast<int64_t>(static_cast<uint64_t>(x));
  return static_cast<int64_t>(x);
}

DenseElementsAttr buildDense(RankedTensorType type, ArrayRef<int64_t> ints) {
  Type elementType = type.getElementType();
  if (auto intType = elementType.dyn_cast<IntegerType>()) {
    SmallVector<APInt> values;
    for (int64_t v : ints)
      values.push_back(APInt(intType.getWidth(), (uint64_t)v,
                             /*isSigned=*/!intType.isUnsigned()));
    return DenseElementsAttr::get(type, values);
  }
  SmallVector<double> floats(ints.begin(), ints.end());
  return buildDense(type, floats);
}

DenseElementsAttr buildDense(RankedTensorType type, ArrayRef<double> floats) {
  Type elementType = type.getElementType();
  if (auto floatType = elementType.dyn_cast<FloatType>()) {
    SmallVector<APFloat> values;
    for (double v : floats) {
      APFloat value(v);
      bool losesInfo;
      value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      values.push_back(value);
    }
    return DenseElementsAttr::get(type, values);
  }
  if (!elementType.isa<IntegerType>())
    return {};
  // Truncated to 64 bits, then wrapped to the width (-1 is 255 as ui8:
  // callers build all-ones masks so); NaN and values outside int64 give
  // INT64_MIN rather than undefined behaviour.
  SmallVector<int64_t> ints;
  for (double v : floats)
    ints.push_back(floatToInt(v, 64, false));
  return buildDense(type, ints);
}

DenseElementsAttr buildDense(RankedTensorType type,
                             const ConstantTensor &values) {
  return values.isFloat ? buildDense(type, values.floats)
                        : buildDense(type, values.ints);
}

bool isConstantSplat(Attribute attr, double value) {
  if (!attr)
    return false;
  if (auto dense = attr.dyn_cast<DenseElementsAttr>();
      dense && dense.isSplat()) {
    if (dense.getElementType().isa<FloatType>())
      return dense.getSplatValue<APFloat>().convertToDouble() == value;
    // i1 true is 1, not the -1 its sign extension gives.
    if (dense.getElementType().isInteger(1))
      return (dense.getSplatValue<APInt>().getBoolValue() ? 1.0 : 0.0) == value;
    if (dense.getElementType().isa<IntegerType>())
      return (double)dense.getSplatValue<APInt>().getSExtValue() == value;
    return false;
  }
  std::optional<ConstantTensor> tensor = readConstant(attr);
  if (!tensor || tensor->size() == 0)
    return false;
  for (int64_t i = 0; i < tensor->size(); ++i)
    if (tensor->asDouble(i) != value)
      return false;
  return true;
}

void releaseUnusedResources(ModuleOp module, ArrayRef<Attribute> dropped) {
  llvm::StringSet<> candidates;
  for (Attribute attr : dropped)
    if (auto resource = attr.dyn_cast_or_null<DenseResourceElementsAttr>())
      candidates.insert(resource.getRawHandle().getKey());
  if (candidates.empty())
    return;
  // Keys still referenced anywhere (an attribute of any op, nested in
  // dictionaries or arrays too) keep their data.
  module.walk([&](Operation *op) {
    op->getAttrDictionary().cast<SubElementAttrInterface>().walkSubAttrs(
        [&](Attribute attr) {
          if (auto resource = attr.dyn_cast<DenseResourceElementsAttr>())
            candidates.erase(resource.getRawHandle().getKey());
        });
  });
  auto &manager =
      DenseResourceElementsHandle::getManagerInterface(module.getContext());
  for (const auto &entry : candidates)
    manager.update(entry.getKey(), AsmResourceBlob());
}

ElementsAttr makeOwnedResource(ShapedType type, std::string bytes,
                               StringRef name) {
  auto owned = std::make_unique<std::string>(std::move(bytes));
  ArrayRef<char> data(owned->data(), owned->size());
  AsmResourceBlob blob(
      data, alignof(uint64_t),
      [owned = std::move(owned)](void *, size_t, size_t) mutable {
        owned.reset();
      },
      /*dataIsMutable=*/false);
  auto &manager =
      DenseResourceElementsHandle::getManagerInterface(type.getContext());
  // The key is printed bare (dense_resource<key>), so it must be an MLIR
  // bare identifier for --emit=mlir --print-weights to parse back:
  // TorchScript's initializer names (onnx::MatMul_123) are not.
  std::string key = name.empty() ? std::string("weight") : name.str();
  for (char &c : key)
    if (!llvm::isAlnum(c) && c != '_' && c != '.' && c != '$')
      c = '_';
  if (llvm::isDigit(key.front()))
    key.insert(key.begin(), '_');
  return DenseResourceElementsAttr::get(type,
                                        manager.insert(key, std::move(blob)));
}

ElementsAttr makeF32Resource(ShapedType type, ArrayRef<float> values,
                             StringRef name) {
  assert((int64_t)values.size() == type.getNumElements() &&
         type.getElementType().isF32());
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return makeOwnedResource(type, std::move(bytes), name);
}

// Linear index into an operand of `operandShape` broadcast to `resultShape`.
int64_t broadcastIndex(ArrayRef<int64_t> resultShape,
                       ArrayRef<int64_t> operandShape, int64_t linear) {
  int64_t index = 0, stride = 1;
  int64_t offset = resultShape.size() - operandShape.size();
  for (int64_t d = resultShape.size() - 1; d >= 0; --d) {
    int64_t coord = linear % resultShape[d];
    linear /= resultShape[d];
    if (d < offset)
      continue;
    int64_t dim = operandShape[d - offset];
    if (dim != 1)
      index += coord * stride;
    stride *= dim;
  }
  return index;
}

} // namespace anvil
