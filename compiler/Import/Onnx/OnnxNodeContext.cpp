//===- OnnxNodeContext.cpp - what an op importer sees of a node -----------===//

#include "compiler/Import/Onnx/OnnxNodeContext.h"
#include "dialects/Anvil/ConstantValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SetVector.h"

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

Value foldAtImport(Operation *op) {
  Value result = op->getResult(0);
  if (op->getNumResults() != 1 || op->hasTrait<OpTrait::ConstantLike>())
    return result;
  SmallVector<Attribute> operands;
  for (Value operand : op->getOperands()) {
    Attribute attr;
    operands.push_back(matchPattern(operand, m_Constant(&attr)) ? attr
                                                                : Attribute());
  }
  SmallVector<OpFoldResult> folded;
  if (failed(op->fold(operands, folded)) || folded.size() != 1)
    return result;
  Value replacement;
  if (auto value = folded[0].dyn_cast<Value>()) {
    // In place (the op changed itself) or an existing value (x + 0).
    if (value == result)
      return result;
    replacement = value;
  } else if (auto elements = folded[0]
                                 .dyn_cast<Attribute>()
                                 .dyn_cast_or_null<ElementsAttr>()) {
    OpBuilder builder(op);
    replacement = builder.create<ConstantOp>(op->getLoc(), elements);
  }
  if (!replacement)
    return result;
  if (op->use_empty())
    op->erase();
  return replacement;
}

namespace {

/// The function arguments in `value`'s producer cone (bounded walk).
SmallVector<BlockArgument> argumentsOf(Value value) {
  SmallVector<BlockArgument> args;
  llvm::SetVector<Value> seen;
  SmallVector<Value> work{value};
  while (!work.empty() && seen.size() < 4096) {
    Value v = work.pop_back_val();
    if (!v || !seen.insert(v))
      continue;
    if (auto arg = v.dyn_cast<BlockArgument>()) {
      if (isa_and_nonnull<func::FuncOp>(arg.getOwner()->getParentOp()))
        args.push_back(arg);
      continue;
    }
    for (Value operand : v.getDefiningOp()->getOperands())
      work.push_back(operand);
  }
  llvm::sort(args, [](BlockArgument a, BlockArgument b) {
    return a.getArgNumber() < b.getArgNumber();
  });
  return args;
}

std::string argName(BlockArgument arg) {
  auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
  auto name =
      func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name");
  return name ? name.getValue().str()
              : "#" + std::to_string(arg.getArgNumber());
}

} // namespace

std::string bindingHintSuffix(Value value) {
  std::string hint = bindingHint(value);
  return hint.empty() ? hint : "; " + hint;
}

SmallVector<std::string> graphInputsOf(Value value) {
  SmallVector<std::string> names;
  for (BlockArgument arg : argumentsOf(value))
    names.push_back(argName(arg));
  return names;
}

std::string bindingHint(Value value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (BlockArgument arg : argumentsOf(value)) {
    auto type = arg.getType().dyn_cast<RankedTensorType>();
    if (!type || type.hasStaticShape())
      continue;
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto names =
        func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "anvil.dim_names");
    std::string input = argName(arg);
    SmallVector<std::string> dims;
    std::string shape;
    for (auto [i, size] : llvm::enumerate(type.getShape())) {
      std::string dim;
      if (size == ShapedType::kDynamic) {
        auto name = names && i < names.size() ? names[i].dyn_cast<StringAttr>()
                                              : StringAttr();
        dim = name && !name.getValue().empty() ? name.getValue().str()
                                               : "D" + std::to_string(i);
        dims.push_back(dim);
        dim = "{" + dim + "}";
      } else {
        dim = std::to_string(size);
      }
      shape += (i ? "x" : "") + dim;
    }
    // Dims given a range (--dim=NAME=MIN..MAX, recorded as anvil.sizes)
    // are bound but stay symbolic, which is not enough here.
    SmallVector<std::string> ranged;
    if (auto sizes = func->getAttrOfType<ArrayAttr>("anvil.sizes"))
      for (Attribute size : sizes)
        if (auto dict = size.dyn_cast<DictionaryAttr>())
          if (auto name = dict.getAs<StringAttr>("name"))
            if (llvm::is_contained(dims, name.getValue().str()))
              ranged.push_back(name.getValue().str());
    auto quoted = [&](ArrayRef<std::string> list) {
      for (const std::string &d : list)
        os << (&d == &list.front() ? "'" : ", '") << d << "'";
    };
    os << (text.empty() ? "it depends on graph input '" : "; and on '") << input
       << "' (" << type << ") whose " << (dims.size() == 1 ? "dim " : "dims ");
    quoted(dims);
    bool many = dims.size() > 1;
    if (ranged.empty()) {
      os << (many ? " are" : " is") << " not bound";
    } else if (ranged.size() == dims.size()) {
      os << (many ? " have ranges" : " has a range")
         << " (--dim=NAME=MIN..MAX), which keeps " << (many ? "them" : "it")
         << " symbolic; this needs " << (many ? "fixed sizes" : "a fixed size");
    } else {
      os << " are not all bound to sizes (";
      quoted(ranged);
      os << (ranged.size() == 1 ? " has a range" : " have ranges")
         << " (--dim=NAME=MIN..MAX), which keeps "
         << (ranged.size() == 1 ? "it" : "them")
         << " symbolic); this needs fixed sizes";
    }
    os << ": bind " << (many ? "them" : "it") << " with";
    // (Every dynamic dim of a graph input has a name: the importer refuses
    // unnamed ones.)
    for (const std::string &d : dims)
      os << " --dim=" << d << "=SIZE";
    os << " or --input-shape=" << input << ":" << shape;
  }
  return os.str();
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
    InFlightDiagnostic diag = error();
    diag << "input " << i << " (" << what
         << ") must be a compile-time constant, and it does not fold to one";
    std::string hint = bindingHint(value);
    if (!hint.empty())
      diag << ": " << hint;
    else
      diag << " (it is computed at run time from values that are not "
              "constants)";
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
    InFlightDiagnostic diag = error();
    diag << "input " << i << " (" << what
         << ") must be a compile-time constant scalar";
    std::string hint = tensor ? "" : bindingHint(value);
    if (!hint.empty())
      diag << "; " << hint;
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

std::string attributeTypeName(int type) {
  if (type == onnx::AttributeProto::UNDEFINED)
    return "untyped (its type field is not set)";
  if (onnx::AttributeProto::AttributeType_IsValid(type))
    return onnx::AttributeProto::AttributeType_Name(
        static_cast<onnx::AttributeProto::AttributeType>(type));
  return "unknown type " + std::to_string(type);
}

const onnx::AttributeProto *NodeContext::typedAttr(StringRef name,
                                                   int type) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a || a->type() == type)
    return a;
  attributeError = true;
  emitError(loc) << node.op_type() << ": attribute '" << name << "' must be "
                 << attributeTypeName(type) << ", not "
                 << attributeTypeName(a->type());
  return nullptr;
}

int64_t NodeContext::attrInt(StringRef name, int64_t fallback) const {
  const onnx::AttributeProto *a = typedAttr(name, onnx::AttributeProto::INT);
  return a ? a->i() : fallback;
}

float NodeContext::attrFloat(StringRef name, float fallback) const {
  const onnx::AttributeProto *a = typedAttr(name, onnx::AttributeProto::FLOAT);
  return a ? a->f() : fallback;
}

std::string NodeContext::attrString(StringRef name, StringRef fallback) const {
  const onnx::AttributeProto *a = typedAttr(name, onnx::AttributeProto::STRING);
  return a ? a->s() : fallback.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::attrInts(StringRef name) const {
  const onnx::AttributeProto *a = typedAttr(name, onnx::AttributeProto::INTS);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

FailureOr<SmallVector<int64_t>> NodeContext::attrIntsOfSize(StringRef name,
                                                            size_t size,
                                                            int64_t fallback,
                                                            StringRef sizeOf) {
  std::optional<SmallVector<int64_t>> given = attrInts(name);
  if (hadAttributeError())
    return failure();
  if (!given)
    return SmallVector<int64_t>(size, fallback);
  if (given->size() != size) {
    error() << "attribute '" << name << "' has " << given->size()
            << " entries, expected " << size << " (" << sizeOf << ")";
    return failure();
  }
  return *given;
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
