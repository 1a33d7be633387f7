//===- CpuEmitter.cpp - kernel programs as C++17 --------------------------===//
//
// The output is meant to be read: one statement per kernel-program op, the
// op's location in a comment, buffers named b<N> and scalars t<N>. Every
// value in an elementwise body has the C++ type of its (signless) MLIR type
// and every integer op wraps, as `arith` defines; unsigned ops reinterpret
// through the unsigned type of the same width.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuEmitter.h"
#include "backends/common/CScalarPrinter.h"
#include "dialects/ElementTypes.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace anvil::kernel;

namespace anvil::backend::cpu {
namespace {

/// The C++ type holding one element of `type` (dtypes.def's storage type,
/// with the kernels' arithmetic types for bool and the 16-bit floats), or ""
/// if there is none: packed 4-bit values only exist as ui8 bytes, and the
/// kernels do not compute in float8 yet.
std::string cppType(Type type, bool forceUnsigned = false) {
  const DType *row = dtypeOf(type);
  if (!row || row->isPacked() || row->isFloat8())
    return "";
  if (row->kind == 'B')
    return "bool";
  if (type.isF16())
    return "anvil::cpu::f16";
  if (type.isBF16())
    return "anvil::cpu::bf16";
  if (forceUnsigned && row->kind == 'S')
    return "uint" + std::to_string(row->bits) + "_t";
  return row->storage;
}

/// How C++ for the cpu target spells element types and scalar helpers.
const CDialect &cpuCDialect() {
  static const CDialect dialect{cppType, "anvil::cpu::"};
  return dialect;
}

std::string camelCase(StringRef name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? llvm::toUpper(c) : c;
    upper = false;
  }
  return out;
}

/// The node names of `loc`, for a `//` comment. Names come from the model
/// file, so anything that could end the comment (a newline, or a backslash
/// that splices the next line into it) or is not printable ASCII becomes
/// '?', and long names are cut.
std::string locationComment(Location loc) {
  std::string text;
  auto append = [&](StringRef name) {
    if (!text.empty())
      text += ", ";
    for (char c : name.take_front(80))
      text += (c >= 0x20 && c < 0x7f && c != '\\') ? c : '?';
  };
  if (auto name = loc.dyn_cast<NameLoc>())
    append(name.getName().getValue());
  else if (auto fused = loc.dyn_cast<FusedLoc>())
    for (Location inner : fused.getLocations())
      if (auto n = inner.dyn_cast<NameLoc>())
        append(n.getName().getValue());
  return text;
}

class FunctionEmitter {
public:
  FunctionEmitter(func::FuncOp func, raw_ostream &os, int index)
      : func(func), os(os), index(index) {}

  LogicalResult emit();

private:
  func::FuncOp func;
  raw_ostream &os;
  int index;
  DenseMap<Value, std::string> names;
  int nextBuffer = 0;

  std::string bufferName(Value value) { return names.lookup(value); }
  LogicalResult declareBuffer(Value value, StringRef init, Location loc);
  LogicalResult emitLaunch(LaunchOp launch);
  LogicalResult emitElementwise(ElementwiseOp loop);
  LogicalResult emitParam(StringRef kernel, NamedAttribute param,
                          raw_ostream &out);
};

LogicalResult FunctionEmitter::declareBuffer(Value value, StringRef init,
                                             Location loc) {
  auto type = value.getType().cast<MemRefType>();
  std::string element = cppType(type.getElementType());
  if (element.empty())
    return emitError(loc) << "the cpu target has no C++ type for "
                          << type.getElementType() << " yet";
  std::string name = "b" + std::to_string(nextBuffer++);
  names[value] = name;
  os << "  " << element << " *" << name << " = reinterpret_cast<" << element
     << " *>(" << init << "); // " << type << "\n";
  return success();
}

LogicalResult FunctionEmitter::emitParam(StringRef kernel, NamedAttribute param,
                                         raw_ostream &out) {
  StringRef name = param.getName().getValue();
  Attribute value = param.getValue();
  if (auto b = value.dyn_cast<BoolAttr>())
    out << "    p." << name << " = " << (b.getValue() ? "true" : "false")
        << ";\n";
  else if (auto i = value.dyn_cast<IntegerAttr>())
    out << "    p." << name << " = INT64_C(" << i.getInt() << ");\n";
  else if (auto f = value.dyn_cast<FloatAttr>())
    out << "    p." << name << " = "
        << cFloatLiteral(f.getValueAsDouble(), "double") << ";\n";
  else if (auto s = value.dyn_cast<StringAttr>())
    out << "    p." << name << " = \"" << s.getValue() << "\";\n";
  else if (auto a = value.dyn_cast<DenseI64ArrayAttr>()) {
    if (a.empty()) {
      out << "    p." << name << " = nullptr;\n";
    } else {
      out << "    static const int64_t " << name << "[] = {";
      llvm::interleaveComma(a.asArrayRef(), out);
      out << "};\n    p." << name << " = " << name << ";\n";
    }
  } else
    return func.emitError() << "kernel '" << kernel << "' parameter '" << name
                            << "' has an attribute the cpu target cannot pass";
  return success();
}

LogicalResult FunctionEmitter::emitLaunch(LaunchOp launch) {
  StringRef kernel = launch.getKernel();
  os << "  { // " << kernel;
  std::string where = locationComment(launch.getLoc());
  if (!where.empty())
    os << " (" << where << ")";
  os << "\n    anvil::cpu::" << camelCase(kernel) << "Params p{};\n";
  for (NamedAttribute param : launch.getParams())
    if (failed(emitParam(kernel, param, os)))
      return failure();
  os << "    ANVIL_TRY(anvil::cpu::" << kernel << "(host, p";
  for (Value in : launch.getInputs())
    os << ", static_cast<const "
       << cppType(in.getType().cast<MemRefType>().getElementType()) << " *>("
       << bufferName(in) << ")";
  for (Value out : launch.getOutputs())
    os << ", " << bufferName(out);
  os << "));\n  }\n";
  return success();
}

LogicalResult FunctionEmitter::emitElementwise(ElementwiseOp loop) {
  auto outType = loop.getOutput().getType().cast<MemRefType>();
  SmallVector<int64_t> shape(outType.getShape());
  int64_t total = outType.getNumElements();
  if (total == 0)
    return success();
  // Strides of every operand over the output's index space (0: broadcast).
  SmallVector<Value> operands(loop.getInputs());
  operands.push_back(loop.getOutput());
  SmallVector<SmallVector<int64_t>> strides;
  for (Value operand : operands) {
    ArrayRef<int64_t> dims = operand.getType().cast<MemRefType>().getShape();
    SmallVector<int64_t> s = broadcastStrides(dims, shape.size());
    strides.push_back(s);
  }
  // Merge neighbouring dims every operand walks the same way; drop unit dims.
  SmallVector<int64_t> dims;
  SmallVector<SmallVector<int64_t>> dimStrides(operands.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    bool merge = !dims.empty();
    for (size_t k = 0; k < operands.size() && merge; ++k)
      merge = dimStrides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      dims.back() *= shape[d];
      for (size_t k = 0; k < operands.size(); ++k)
        dimStrides[k].back() = strides[k][d];
      continue;
    }
    dims.push_back(shape[d]);
    for (size_t k = 0; k < operands.size(); ++k)
      dimStrides[k].push_back(strides[k][d]);
  }
  auto index = [&](size_t k) {
    std::string text;
    for (size_t d = 0; d < dims.size(); ++d) {
      int64_t s = dimStrides[k][d];
      if (s == 0)
        continue;
      text += (text.empty() ? "" : " + ") + ("i" + std::to_string(d)) +
              (s == 1 ? "" : " * " + std::to_string(s));
    }
    return text.empty() ? std::string("0") : text;
  };

  os << "  { // elementwise";
  std::string where = locationComment(loop.getLoc());
  if (!where.empty())
    os << " (" << where << ")";
  os << ", " << total << " elements\n";
  // Large loops split their outermost dim over the threads.
  int64_t outer = dims.empty() ? 1 : dims[0];
  int64_t perOuter = total / std::max<int64_t>(outer, 1);
  int64_t grain =
      std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(perOuter, 1));
  os << "    anvil::cpu::parallel_for(host, " << outer << ", " << grain
     << ", [&](int64_t begin, int64_t end) {\n";
  if (dims.empty())
    os << "      for (int64_t i0 = begin; i0 < end; ++i0) {\n";
  for (size_t d = 0; d < dims.size(); ++d)
    os << std::string(6 + 2 * d, ' ') << "for (int64_t i" << d << " = "
       << (d == 0 ? "begin" : "0") << "; i" << d << " < "
       << (d == 0 ? "end" : std::to_string(dims[d])) << "; ++i" << d << ")"
       << (d + 1 == dims.size() ? " {\n" : "\n");
  Block &body = loop.getBody().front();
  DenseMap<Value, std::string> scalars;
  int next = 0;
  for (auto [k, arg] : llvm::enumerate(body.getArguments())) {
    std::string type = cppType(arg.getType());
    if (type.empty())
      return loop.emitOpError("has an element type the cpu target cannot hold");
    std::string name = "a" + std::to_string(k);
    scalars[arg] = name;
    os << "        const " << type << " " << name << " = static_cast<" << type
       << ">(" << bufferName(operands[k]) << "[" << index(k) << "]);\n";
  }
  CScalarPrinter scalarPrinter(cpuCDialect(), os, scalars, next, "        ");
  for (Operation &op : body.without_terminator())
    if (failed(scalarPrinter.print(&op)))
      return failure();
  Value yielded = cast<YieldOp>(body.getTerminator()).getValue();
  std::string outElement = cppType(outType.getElementType());
  os << "        " << bufferName(loop.getOutput()) << "["
     << index(operands.size() - 1) << "] = static_cast<" << outElement << ">("
     << scalars.lookup(yielded) << ");\n";
  os << "      }\n    });\n  }\n";
  return success();
}

LogicalResult FunctionEmitter::emit() {
  int64_t numInputs = func->getAttrOfType<IntegerAttr>(kNumInputsAttr).getInt();
  os << "// entry point '" << func.getName() << "'\n";
  // The ABI's entry (runtime/include/anvil/abi.h), unpacked into the locals
  // the body uses. RunScope routes kernels' failure reasons into the
  // invocation's error buffer, from any thread.
  int64_t numOutputs = static_cast<int64_t>(func.getNumArguments()) - numInputs;
  os << "int entry_" << index
     << "(const anvil_host_api *host, const anvil_invocation *invocation) {\n";
  os << "  anvil::cpu::RunScope run_scope(invocation);\n";
  os << "  if (invocation->num_inputs != " << numInputs
     << " || invocation->num_outputs != " << numOutputs << ")\n"
     << "    return anvil::cpu::fail(host, \"entry point '" << func.getName()
     << "' called with the wrong number of buffers\");\n";
  os << "  const void *const *inputs = invocation->inputs;\n";
  os << "  void *const *outputs = invocation->outputs;\n";
  os << "  const int64_t *sizes = invocation->sizes;\n";
  os << "  unsigned char *arena = static_cast<unsigned char "
        "*>(invocation->arena);\n";
  os << "  const unsigned char *weights = static_cast<const unsigned char "
        "*>(invocation->weights);\n";
  os << "  (void)inputs;\n  (void)outputs;\n  (void)sizes;\n"
        "  (void)arena;\n  (void)weights;\n";
  for (BlockArgument arg : func.getArguments()) {
    int64_t i = arg.getArgNumber();
    std::string slot =
        i < numInputs ? "const_cast<void *>(inputs[" + std::to_string(i) + "])"
                      : "outputs[" + std::to_string(i - numInputs) + "]";
    if (failed(declareBuffer(arg, slot, func.getLoc())))
      return failure();
  }
  for (Operation &op : func.getBody().front()) {
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](BufferOp b) {
              return declareBuffer(
                  b, "arena + " + std::to_string(b.getOffset()), b.getLoc());
            })
            .Case([&](WeightOp w) -> LogicalResult {
              if (!w.getOffset())
                return w.emitOpError("has no offset: run anvil-pack-weights");
              return declareBuffer(w,
                                   "const_cast<unsigned char *>(weights + " +
                                       std::to_string(*w.getOffset()) + ")",
                                   w.getLoc());
            })
            .Case([&](ViewOp v) {
              return declareBuffer(v, bufferName(v.getSource()), v.getLoc());
            })
            .Case([&](LaunchOp l) { return emitLaunch(l); })
            .Case([&](ElementwiseOp e) { return emitElementwise(e); })
            .Case([&](AllocOp a) {
              return a.emitOpError("is not placed: run anvil-plan-memory");
            })
            .Case([&](func::ReturnOp) {
              os << "  return 0;\n";
              return success();
            })
            .Default([&](Operation *other) {
              return other->emitOpError("is not part of a kernel program");
            });
    if (failed(result))
      return failure();
  }
  os << "}\n\n";
  return success();
}

} // namespace

LogicalResult emitCpuSource(ModuleOp module, raw_ostream &os) {
  os << "// Generated by anvilc for the cpu target. Kernels: "
        "backends/cpu/kernels; ABI: runtime/include/anvil/abi.h.\n"
        "#include \"anvil_cpu_kernels.h\"\n\n"
        "namespace {\n\n";
  SmallVector<func::FuncOp> entries;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(kNumInputsAttr))
      entries.push_back(func);
  for (auto [index, func] : llvm::enumerate(entries))
    if (failed(FunctionEmitter(func, os, index).emit()))
      return failure();
  os << "const anvil_code_entry kEntries[] = {\n";
  for (auto [index, func] : llvm::enumerate(entries))
    os << "    {\"" << func.getName() << "\", entry_" << index << "},\n";
  if (entries.empty())
    os << "    {nullptr, nullptr},\n";
  os << "};\n"
     << "const anvil_code_table kTable = {sizeof(anvil_code_table), "
        "ANVIL_ABI_VERSION, "
     << entries.size() << ", kEntries, nullptr};\n\n"
     << "} // namespace\n\n"
        "extern \"C\" __attribute__((visibility(\"default\"))) const "
        "anvil_code_table *\nanvil_get_code_table(void) { return &kTable; }\n";
  return success();
}

} // namespace anvil::backend::cpu
