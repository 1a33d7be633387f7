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
#include "backends/cpu/codegen/ClampEpilogue.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/ElementTypes.h"
#include "dialects/Kernel/KernelCatalog.h"
#include "dialects/Kernel/KernelOps.h"

#include "llvm/ADT/SetVector.h"
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

/// How C++ for the cpu target spells element types and scalar helpers
/// (exp_f32, erf_f32, tanh_f32: libm's expf, erff and tanhf do not
/// vectorize).
const CDialect &cpuCDialect() {
  static const CDialect dialect{cppType, "anvil::cpu::", "anvil::cpu::exp_f32",
                                "anvil::cpu::erf_f32", "anvil::cpu::tanh_f32"};
  return dialect;
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

/// A size expression as C++ over the entry point's `sizes` (symbol i is
/// sizes[i]); constants print as plain integers.
std::string sizeExpr(AffineExpr expr) {
  if (auto c = expr.dyn_cast<AffineConstantExpr>())
    return std::to_string(c.getValue());
  if (auto s = expr.dyn_cast<AffineSymbolExpr>())
    return "sizes[" + std::to_string(s.getPosition()) + "]";
  auto binary = expr.cast<AffineBinaryOpExpr>();
  auto operand = [](AffineExpr e) {
    std::string text = sizeExpr(e);
    return e.isa<AffineBinaryOpExpr>() ? "(" + text + ")" : text;
  };
  std::string l = operand(binary.getLHS()), r = operand(binary.getRHS());
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    if (auto c = binary.getRHS().dyn_cast<AffineConstantExpr>();
        c && c.getValue() < 0)
      return l + " - " + std::to_string(-c.getValue());
    return l + " + " + r;
  case AffineExprKind::Mul:
    return l + " * " + r;
  case AffineExprKind::FloorDiv: // sizes are never negative
    return l + " / " + r;
  case AffineExprKind::CeilDiv:
    return "(" + l + " + " + r + " - 1) / " + r;
  case AffineExprKind::Mod:
    return l + " % " + r;
  default:
    llvm_unreachable("not a binary affine expression");
  }
}

bool isConstant(AffineExpr e, int64_t value) {
  auto c = e.dyn_cast<AffineConstantExpr>();
  return c && c.getValue() == value;
}

/// Launches and loops per generated function. GCC and Clang optimize one
/// function in time that grows faster than its length (GCC 12 at -O2: 2.0 s
/// for a function of 1,000 launches, 9.7 s for 2,000, 250 s for 5,000), so
/// a long program becomes a chain of functions of at most this many steps.
constexpr size_t kStepsPerFunction = 128;

/// Markers in a step's text before it is placed in a function: a buffer
/// reference is kBufferBegin <buffer index> kBufferEnd, and a node-name
/// comment sits between kLocationBegin and kLocationEnd (left out when
/// steps are compared for outlining, as node names differ between layers).
constexpr char kBufferBegin = '\x01', kBufferEnd = '\x02';
constexpr char kLocationBegin = '\x03', kLocationEnd = '\x04';

/// Appends `var` * `stride` to the C++ index expression `text` (" + "
/// between terms; nothing for a zero stride, no factor for a unit one).
void appendIndexTerm(std::string &text, const std::string &var,
                     AffineExpr stride) {
  if (isConstant(stride, 0))
    return;
  std::string factor = sizeExpr(stride);
  if (stride.isa<AffineBinaryOpExpr>())
    factor = "(" + factor + ")";
  text += (text.empty() ? "" : " + ") + var +
          (isConstant(stride, 1) ? "" : " * " + factor);
}

/// A repeated block is outlined only when it saves at least this many
/// steps of code: below that a call with its argument array is no shorter.
constexpr size_t kMinOutlinedSavings = 8;
/// Candidate runs confirmed on whole blocks, at most, per search.
constexpr size_t kMaxConfirmations = 64;

class FunctionEmitter {
public:
  FunctionEmitter(func::FuncOp func, raw_ostream &file, int index,
                  const CpuSourceOptions &options)
      : func(func), file(file), index(index), options(options) {}

  LogicalResult emit();

private:
  /// A buffer's C++ pointer, declared in each generated function that
  /// uses it: `name` = reinterpret_cast<`element` *>(`init`), or of a
  /// view's `source` pointer.
  struct Buffer {
    std::string name, element, init;
    Type type;
    Value source;
  };

  func::FuncOp func;
  raw_ostream &file;
  int index;
  const CpuSourceOptions &options;
  std::vector<Buffer> buffers;
  DenseMap<Value, size_t> bufferOf;
  /// The buffers the function being emitted uses (indices into `buffers`).
  llvm::SetVector<size_t> used;
  /// Outlined functions written so far for this entry point.
  int numOutlined = 0;

  std::string bufferName(Value value);
  LogicalResult addBuffer(Value value, StringRef init, Location loc);
  LogicalResult collectBuffers();
  void emitDeclarations(raw_ostream &out);
  std::string resolve(StringRef text);
  void emitSteps(ArrayRef<std::string> steps, raw_ostream &out);
  LogicalResult emitLaunch(LaunchOp launch, raw_ostream &os,
                           ElementwiseOp epilogue = nullptr);
  LogicalResult emitEpilogue(ElementwiseOp loop, int64_t colDims,
                             raw_ostream &os);
  LogicalResult emitElementwise(ElementwiseOp loop, raw_ostream &os);
  void emitOperandPointers(ArrayRef<Value> operands, raw_ostream &os);
  LogicalResult emitBody(ElementwiseOp loop, ArrayRef<Value> operands,
                         llvm::function_ref<std::string(size_t)> index,
                         raw_ostream &os);
  LogicalResult emitParam(LaunchOp launch, const ParamSpec &spec,
                          raw_ostream &out);
  std::string signature(ArrayRef<std::string> steps) const;
  void outline(ArrayRef<std::string> steps, size_t firstStep,
               std::vector<std::string> &items);
};

/// The buffer's pointer as a marker, which resolve() or outline() turns
/// into a name; "" for a value that is not a buffer.
std::string FunctionEmitter::bufferName(Value value) {
  auto it = bufferOf.find(value);
  if (it == bufferOf.end())
    return "";
  return kBufferBegin + std::to_string(it->second) + kBufferEnd;
}

LogicalResult FunctionEmitter::addBuffer(Value value, StringRef init,
                                         Location loc) {
  auto type = value.getType().cast<MemRefType>();
  std::string element = cppType(type.getElementType());
  if (element.empty())
    return emitError(loc) << "the cpu target has no C++ type for "
                          << type.getElementType() << " yet";
  bufferOf[value] = buffers.size();
  buffers.push_back({"b" + std::to_string(buffers.size()), element, init.str(),
                     type, nullptr});
  return success();
}

/// Names every buffer (arguments, arena buffers, weights, views) in
/// program order, and checks that the program holds only what the
/// emitter knows.
LogicalResult FunctionEmitter::collectBuffers() {
  int64_t numInputs = func->getAttrOfType<IntegerAttr>(kNumInputsAttr).getInt();
  int64_t stateCount = numStates(func);
  for (BlockArgument arg : func.getArguments()) {
    int64_t i = arg.getArgNumber();
    std::string slot =
        i < numInputs ? "const_cast<void *>(inputs[" + std::to_string(i) + "])"
        : i < numInputs + stateCount
            ? "states[" + std::to_string(i - numInputs) + "]"
            : "outputs[" + std::to_string(i - numInputs - stateCount) + "]";
    auto type = arg.getType().cast<MemRefType>();
    if (!type.hasStaticShape() &&
        getBufferDims(arg).size() != (size_t)type.getRank())
      return func.emitError("argument #")
             << i << " has the dynamic type " << type << " without '"
             << kDimsAttr << "'";
    if (failed(addBuffer(arg, slot, func.getLoc())))
      return failure();
  }
  for (Operation &op : func.getBody().front()) {
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](BufferOp b) {
              return addBuffer(b, "arena + " + std::to_string(b.getOffset()),
                               b.getLoc());
            })
            .Case([&](WeightOp w) -> LogicalResult {
              if (!w.getOffset())
                return w.emitOpError("has no offset: run anvil-pack-weights");
              return addBuffer(w,
                               "const_cast<unsigned char *>(weights + " +
                                   std::to_string(*w.getOffset()) + ")",
                               w.getLoc());
            })
            .Case([&](ViewOp v) -> LogicalResult {
              if (!bufferOf.count(v.getSource()))
                return v.emitOpError("views a buffer defined after it");
              if (failed(addBuffer(v, "", v.getLoc())))
                return failure();
              buffers.back().source = v.getSource();
              return success();
            })
            .Case<LaunchOp, ElementwiseOp, func::ReturnOp>(
                [](Operation *) { return success(); })
            .Case([&](AllocOp a) {
              return a.emitOpError("is not placed: run anvil-plan-memory");
            })
            .Default([&](Operation *other) {
              return other->emitOpError("is not part of a kernel program");
            });
    if (failed(result))
      return failure();
  }
  return success();
}

/// Declares the pointers in `used`, with the sources of views, in program
/// order; empties `used`.
void FunctionEmitter::emitDeclarations(raw_ostream &out) {
  for (size_t i = 0; i < used.size(); ++i)
    if (Value source = buffers[used[i]].source)
      used.insert(bufferOf.lookup(source));
  SmallVector<size_t> order(used.begin(), used.end());
  llvm::sort(order);
  for (size_t i : order) {
    const Buffer &buffer = buffers[i];
    std::string init = buffer.source
                           ? buffers[bufferOf.lookup(buffer.source)].name
                           : buffer.init;
    out << "  " << buffer.element << " *" << buffer.name
        << " = reinterpret_cast<" << buffer.element << " *>(" << init
        << "); // " << buffer.type << "\n";
  }
  used.clear();
}

/// Walks a step's text with markers: `literal` gets each run of plain
/// text and `buffer` each buffer reference (its index). The location
/// markers are dropped; with `withLocations` false the node names between
/// them are too.
template <typename Literal, typename BufferRef>
void walkStep(StringRef text, bool withLocations, Literal &&literal,
              BufferRef &&buffer) {
  static const char markers[] = {kBufferBegin, kLocationBegin, kLocationEnd};
  while (!text.empty()) {
    size_t marker = text.find_first_of(StringRef(markers, 3));
    literal(text.take_front(marker));
    if (marker == StringRef::npos)
      return;
    char c = text[marker];
    text = text.drop_front(marker + 1);
    if (c == kLocationBegin && !withLocations)
      text = text.drop_until([](char x) { return x == kLocationEnd; });
    else if (c == kBufferBegin) {
      size_t end = text.find(kBufferEnd);
      buffer(std::stoull(text.take_front(end).str()));
      text = text.drop_front(end + 1);
    }
  }
}

/// `text` with its buffer markers replaced by the buffers' names (marked
/// used) and its location markers dropped.
std::string FunctionEmitter::resolve(StringRef text) {
  std::string out;
  out.reserve(text.size());
  walkStep(
      text, /*withLocations=*/true, [&](StringRef piece) { out += piece; },
      [&](size_t buffer) {
        used.insert(buffer);
        out += buffers[buffer].name;
      });
  return out;
}

/// The steps' text, preceded by the pointers they use.
void FunctionEmitter::emitSteps(ArrayRef<std::string> steps, raw_ostream &out) {
  std::string body;
  for (const std::string &step : steps)
    body += resolve(step);
  emitDeclarations(out);
  out << body;
}

/// What two runs of steps must share to be one outlined function: their
/// text without node names, with each buffer numbered by its first use in
/// the run and followed by its type. Equal signatures mean each run is the
/// other with its buffers renamed.
std::string FunctionEmitter::signature(ArrayRef<std::string> steps) const {
  std::string out;
  DenseMap<size_t, size_t> number;
  for (const std::string &step : steps)
    walkStep(
        step, /*withLocations=*/false, [&](StringRef piece) { out += piece; },
        [&](size_t buffer) {
          auto [it, inserted] = number.try_emplace(buffer, number.size());
          out += "$" + std::to_string(it->second);
          if (inserted) {
            llvm::raw_string_ostream os(out);
            os << ":" << buffers[buffer].element << ":" << buffers[buffer].type;
          }
        });
  return out;
}

/// Appends `steps` (which start at step `firstStep` of the entry point) to
/// `items`, with the longest run of consecutive repeats (a model's layers)
/// replaced by calls to one function, written to `file`, that takes the
/// repeat's buffers as arguments; the steps before and after the run are
/// searched the same way. Repeats are found on per-step signatures and
/// confirmed on the whole block's, so a call is always the block it
/// replaces with its own buffers.
void FunctionEmitter::outline(ArrayRef<std::string> steps, size_t firstStep,
                              std::vector<std::string> &items) {
  size_t n = steps.size();
  // Per-step signatures as small integers.
  std::vector<size_t> id(n);
  {
    llvm::StringMap<size_t> interned;
    for (size_t i = 0; i < n; ++i)
      id[i] = interned.try_emplace(signature(steps[i]), interned.size())
                  .first->second;
  }
  // Candidates (start, period, repeats) by the steps they cover, most
  // first; a block holds at least two steps and fits one function.
  struct Candidate {
    size_t start, period, repeats;
  };
  std::vector<Candidate> candidates;
  std::vector<size_t> run(n + 1);
  for (size_t period = 2; period <= std::min(n / 2, kStepsPerFunction);
       ++period) {
    // run[i]: how many steps from i on equal the step `period` later.
    run[n - period] = 0;
    for (size_t i = n - period; i-- > 0;)
      run[i] = id[i] == id[i + period] ? run[i + 1] + 1 : 0;
    for (size_t start = 0; start + 2 * period <= n; ++start) {
      size_t repeats = 1 + run[start] / period;
      // Only the first start of a run of matches: later ones cover less.
      // A start whose previous step also repeats is covered by that one.
      if (repeats >= 2 &&
          (start == 0 || id[start - 1] != id[start - 1 + period]))
        candidates.push_back({start, period, repeats});
    }
  }
  llvm::stable_sort(candidates, [](const Candidate &a, const Candidate &b) {
    return a.period * a.repeats > b.period * b.repeats;
  });
  // Confirming a candidate costs its steps' text; a program whose steps
  // look alike but differ in dataflow could offer thousands, so only the
  // best kMaxConfirmations are tried.
  size_t tried = 0;
  for (const Candidate &c : candidates) {
    if ((c.repeats - 1) * c.period < kMinOutlinedSavings ||
        tried++ == kMaxConfirmations)
      break;
    // The longest run of consecutive blocks with one whole-block signature.
    size_t bestFirst = 0, bestCount = 0;
    std::string previous;
    for (size_t k = 0, first = 0; k < c.repeats; ++k) {
      std::string sig =
          signature(steps.slice(c.start + k * c.period, c.period));
      if (k == 0 || sig != previous)
        first = k;
      previous = std::move(sig);
      if (k + 1 - first > bestCount)
        bestFirst = first, bestCount = k + 1 - first;
    }
    if (bestCount < 2 || (bestCount - 1) * c.period < kMinOutlinedSavings)
      continue;
    size_t begin = c.start + bestFirst * c.period;
    size_t end = begin + bestCount * c.period;
    outline(steps.take_front(begin), firstStep, items);

    // The function, from the first block: its buffers, in order of first
    // use, are its arguments.
    ArrayRef<std::string> block = steps.slice(begin, c.period);
    std::string name = "entry_" + std::to_string(index) + "_repeat" +
                       std::to_string(numOutlined++);
    std::string body;
    SmallVector<size_t> params;
    DenseMap<size_t, size_t> paramOf;
    for (const std::string &step : block)
      walkStep(
          step, /*withLocations=*/true, [&](StringRef piece) { body += piece; },
          [&](size_t buffer) {
            auto [it, inserted] = paramOf.try_emplace(buffer, params.size());
            if (inserted)
              params.push_back(buffer);
            body += "p" + std::to_string(it->second);
          });
    file << "// entry point '" << func.getName() << "', steps "
         << firstStep + begin << " to " << firstStep + end - 1 << ": "
         << bestCount << " repeats of these " << c.period
         << " steps (node names are the first repeat's), each called with "
            "its own buffers\n";
    file << "__attribute__((noinline)) int " << name
         << "(const anvil_host_api *host, const int64_t *sizes,\n"
            "    void *const *args) {\n"
            "  (void)sizes;\n";
    for (auto [i, buffer] : llvm::enumerate(params))
      file << "  " << buffers[buffer].element << " *p" << i << " = static_cast<"
           << buffers[buffer].element << " *>(args[" << i << "]); // "
           << buffers[buffer].type << "\n";
    file << body << "  return 0;\n}\n\n";

    // One call per block, with that block's buffers in the same order.
    for (size_t k = 0; k < bestCount; ++k) {
      ArrayRef<std::string> instance =
          steps.slice(begin + k * c.period, c.period);
      SmallVector<size_t> args;
      llvm::SmallDenseSet<size_t, 32> seen;
      for (const std::string &step : instance)
        walkStep(
            step, /*withLocations=*/false, [](StringRef) {},
            [&](size_t buffer) {
              if (seen.insert(buffer).second)
                args.push_back(buffer);
            });
      std::string call =
          "  { // " + name + ", repeat " + std::to_string(k) + " (steps " +
          std::to_string(firstStep + begin + k * c.period) + " to " +
          std::to_string(firstStep + begin + (k + 1) * c.period - 1) +
          ")\n    void *const args[] = {";
      for (auto [i, buffer] : llvm::enumerate(args))
        call += (i ? ", " : "") +
                (kBufferBegin + std::to_string(buffer) + kBufferEnd);
      call += "};\n    ANVIL_TRY(" + name + "(host, sizes, args));\n  }\n";
      items.push_back(std::move(call));
    }
    outline(steps.drop_front(end), firstStep + end, items);
    return;
  }
  items.insert(items.end(), steps.begin(), steps.end());
}

/// One field of a launch's parameter struct, as an aggregate initializer.
LogicalResult FunctionEmitter::emitParam(LaunchOp launch, const ParamSpec &spec,
                                         raw_ostream &out) {
  Attribute value = launch.getParams().get(spec.name);
  out << "        ";
  if (auto b = value.dyn_cast_or_null<BoolAttr>())
    out << (b.getValue() ? "true" : "false");
  else if (auto i = value.dyn_cast_or_null<IntegerAttr>())
    out << "INT64_C(" << i.getInt() << ")";
  else if (auto f = value.dyn_cast_or_null<FloatAttr>())
    out << cFloatLiteral(f.getValueAsDouble(), "double");
  else if (auto s = value.dyn_cast_or_null<StringAttr>())
    out << "\"" << s.getValue() << "\"";
  else if (auto a = value.dyn_cast_or_null<DenseI64ArrayAttr>()) {
    out << "{";
    llvm::interleaveComma(a.asArrayRef(), out);
    out << "}";
  } else if (auto a = value.dyn_cast_or_null<DenseF64ArrayAttr>()) {
    out << "{";
    llvm::interleaveComma(a.asArrayRef(), out,
                          [&](double v) { out << cFloatLiteral(v, "double"); });
    out << "}";
  } else if (auto map = value.dyn_cast_or_null<AffineMapAttr>()) {
    // Sizes computed at run time from the entry point's sizes[].
    ArrayRef<AffineExpr> exprs = map.getValue().getResults();
    if (spec.kind == ParamKind::Int)
      out << sizeExpr(exprs.front());
    else {
      out << "{";
      llvm::interleaveComma(exprs, out,
                            [&](AffineExpr e) { out << sizeExpr(e); });
      out << "}";
    }
  } else
    return launch.emitOpError("parameter '")
           << spec.name << "' has an attribute the cpu target cannot pass";
  out << ", // " << spec.name << "\n";
  return success();
}

LogicalResult FunctionEmitter::emitLaunch(LaunchOp launch, raw_ostream &os,
                                          ElementwiseOp epilogue) {
  StringRef kernel = launch.getKernel();
  const KernelSpec *spec = lookupKernel(kernel);
  if (!spec)
    return launch.emitOpError("unknown kernel '") << kernel << "'";
  os << "  { // " << kernel;
  std::string where = locationComment(launch.getLoc());
  if (!where.empty())
    os << " (" << kLocationBegin << where << kLocationEnd << ")";
  // Every field, in the catalog's order (the verifier saw them all).
  os << "\n    const anvil::" << spec->camel << "Params p = {\n";
  for (const ParamSpec &param : spec->params)
    if (failed(emitParam(launch, param, os)))
      return failure();
  os << "    };\n";
  if (epilogue &&
      failed(emitEpilogue(epilogue, epilogueColumnDims(launch), os)))
    return failure();
  os << "    ANVIL_TRY(anvil::cpu::" << kernel << "(host, p";
  for (Value in : launch.getInputs())
    os << ", static_cast<const "
       << cppType(in.getType().cast<MemRefType>().getElementType()) << " *>("
       << bufferName(in) << ")";
  for (Value out : launch.getOutputs())
    os << ", " << bufferName(out);
  if (epilogue)
    os << ", epilogue";
  os << "));\n  }\n";
  return success();
}

/// A kernel's epilogue (kernel.epilogue, anvil-fuse-matmul-epilogue): the
/// loop's body over a block of the [m, n] result (n its last `colDims`
/// dims, epilogueAccess), rows [i0, i1) x columns [n0, n1), in place; the
/// kernel calls it on each block it finishes. A clamp (clampEpilogueBounds) is
/// wrapped as a ClampEpilogue, whose bounds a kernel may apply to its sums
/// instead of calling the loop.
LogicalResult FunctionEmitter::emitEpilogue(ElementwiseOp loop, int64_t colDims,
                                            raw_ostream &os) {
  Value output = loop.getOutput();
  SmallVector<AffineExpr> dims = getBufferDims(output);
  if (dims.empty())
    return loop.emitOpError("is an epilogue of a result without dims");
  SmallVector<Value> operands(loop.getInputs());
  operands.push_back(output);
  SmallVector<std::string> indices;
  for (Value operand : operands) {
    std::optional<EpilogueAccess> access =
        epilogueAccess(operand, output, colDims);
    if (!access)
      return loop.emitOpError("reads an operand an epilogue cannot index");
    std::string text;
    appendIndexTerm(text, "r", access->rowStride);
    appendIndexTerm(text, "c", access->colStride);
    indices.push_back(text.empty() ? "0" : text);
  }
  // The pointers by value, as the elementwise loops capture theirs.
  std::optional<std::pair<double, double>> clamp = clampEpilogueBounds(loop);
  os << "    const auto epilogue = ";
  if (clamp)
    os << "anvil::cpu::clamp_epilogue(" << cFloatLiteral(clamp->first, "float")
       << ", " << cFloatLiteral(clamp->second, "float") << ", ";
  os << "[=](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {\n";
  emitOperandPointers(operands, os);
  os << "      for (int64_t r = i0; r < i1; ++r)\n";
  // Elements are independent and each is read before it is written.
  os << "      #pragma omp simd\n";
  os << "      for (int64_t c = n0; c < n1; ++c) {\n";
  if (failed(emitBody(
          loop, operands, [&](size_t k) { return indices[k]; }, os)))
    return failure();
  os << "      }\n    }" << (clamp ? ")" : "") << ";\n";
  return success();
}

LogicalResult FunctionEmitter::emitElementwise(ElementwiseOp loop,
                                               raw_ostream &os) {
  auto outType = loop.getOutput().getType().cast<MemRefType>();
  MLIRContext *context = loop.getContext();
  // Dims are size expressions (integers when static).
  SmallVector<AffineExpr> shape = getBufferDims(loop.getOutput());
  if (shape.size() != (size_t)outType.getRank())
    return loop.emitOpError("has a dynamic output without '")
           << kDimsAttr << "'";
  AffineExpr total = getAffineConstantExpr(1, context);
  for (AffineExpr d : shape)
    total = total * d;
  if (isConstant(total, 0))
    return success();
  // Strides of every operand over the output's index space (0: broadcast).
  SmallVector<Value> operands(loop.getInputs());
  operands.push_back(loop.getOutput());
  SmallVector<SmallVector<AffineExpr>> strides;
  for (Value operand : operands) {
    SmallVector<AffineExpr> dims = getBufferDims(operand);
    if (dims.size() != (size_t)operand.getType().cast<MemRefType>().getRank())
      return loop.emitOpError("has a dynamic operand without '")
             << kDimsAttr << "'";
    strides.push_back(broadcastStrides(dims, shape.size(),
                                       getAffineConstantExpr(1, context)));
  }
  // Merge neighbouring dims every operand walks the same way; drop unit dims.
  // With bounded dims the strides are expressions, compared simplified.
  SmallVector<AffineExpr> dims;
  SmallVector<SmallVector<AffineExpr>> dimStrides(operands.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (isConstant(shape[d], 1))
      continue;
    bool merge = !dims.empty();
    for (size_t k = 0; k < operands.size() && merge; ++k)
      merge = dimStrides[k].back() ==
              simplifyAffineExpr(strides[k][d] * shape[d], 0, numSizes(loop));
    if (merge) {
      dims.back() = dims.back() * shape[d];
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
    for (size_t d = 0; d < dims.size(); ++d)
      appendIndexTerm(text, "i" + std::to_string(d), dimStrides[k][d]);
    return text.empty() ? std::string("0") : text;
  };

  os << "  { // elementwise";
  std::string where = locationComment(loop.getLoc());
  if (!where.empty())
    os << " (" << kLocationBegin << where << kLocationEnd << ")";
  os << ", " << sizeExpr(total) << " elements\n";
  // Large loops split their outermost dim over the threads.
  AffineExpr outer = dims.empty() ? getAffineConstantExpr(1, context) : dims[0];
  AffineExpr perOuter = getAffineConstantExpr(1, context);
  for (size_t d = 1; d < dims.size(); ++d)
    perOuter = perOuter * dims[d];
  std::string grain;
  if (auto c = perOuter.dyn_cast<AffineConstantExpr>())
    grain = std::to_string(
        std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(c.getValue(), 1)));
  else
    grain = "std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(" +
            sizeExpr(perOuter) + ", 1))";
  // The body captures its pointers by value: captured by reference, every
  // pointer of the enclosing function would live in memory, and GCC takes
  // a third longer on functions with thousands of them.
  os << "    anvil::cpu::parallel_for(host, " << sizeExpr(outer) << ", "
     << grain << ", [=](int64_t begin, int64_t end) {\n";
  emitOperandPointers(operands, os);
  if (dims.empty())
    os << "      for (int64_t i0 = begin; i0 < end; ++i0) {\n";
  // The innermost loop vectorizes (GCC's -O2 cost model alone leaves a
  // loop of unknown trip count scalar): its elements are independent, and
  // an output never shares bytes with an input (PlanMemory gives buffers
  // live at the same op disjoint bytes), so `omp simd` holds.
  // Elementwise math has no reductions, so a lane gets the scalar bits.
  for (size_t d = 0; d < dims.size(); ++d) {
    if (d + 1 == dims.size())
      os << std::string(6 + 2 * d, ' ') << "#pragma omp simd\n";
    os << std::string(6 + 2 * d, ' ') << "for (int64_t i" << d << " = "
       << (d == 0 ? "begin" : "0") << "; i" << d << " < "
       << (d == 0 ? "end" : sizeExpr(dims[d])) << "; ++i" << d << ")"
       << (d + 1 == dims.size() ? " {\n" : "\n");
  }
  if (failed(emitBody(loop, operands, index, os)))
    return failure();
  os << "      }\n    });\n  }\n";
  return success();
}

/// The loop's operand buffers (the inputs, then the output) as local
/// pointers ptr0, ptr1, ... at the top of its lambda, which emitBody
/// indexes (p0, p1, ... are an outlined layer's parameters).
/// Read through the lambda's captures instead, every pointer would be
/// loaded again after each store to an 8-bit buffer (char stores may alias
/// the closure), which kept every loop writing int8 or uint8 (quantize,
/// requantize, casts) from vectorizing.
void FunctionEmitter::emitOperandPointers(ArrayRef<Value> operands,
                                          raw_ostream &os) {
  for (auto [k, operand] : llvm::enumerate(operands))
    os << "      auto *const ptr" << k << " = " << bufferName(operand) << ";\n";
}

/// The loop's body at element `index(k)` of each operand (the inputs, then
/// the output, the last `operands`): load, compute, store.
LogicalResult
FunctionEmitter::emitBody(ElementwiseOp loop, ArrayRef<Value> operands,
                          llvm::function_ref<std::string(size_t)> index,
                          raw_ostream &os) {
  auto outType = loop.getOutput().getType().cast<MemRefType>();
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
       << ">(ptr" << k << "[" << index(k) << "]);\n";
  }
  CScalarPrinter scalarPrinter(cpuCDialect(), os, scalars, next, "        ");
  for (Operation &op : body.without_terminator())
    if (failed(scalarPrinter.print(&op)))
      return failure();
  Value yielded = cast<YieldOp>(body.getTerminator()).getValue();
  std::string outElement = cppType(outType.getElementType());
  os << "        ptr" << operands.size() - 1 << "["
     << index(operands.size() - 1) << "] = static_cast<" << outElement << ">("
     << scalars.lookup(yielded) << ");\n";
  return success();
}

LogicalResult FunctionEmitter::emit() {
  if (failed(collectBuffers()))
    return failure();
  // Each step's (launch's or loop's) text, with buffer markers.
  std::vector<std::string> steps;
  ElementwiseOp taken; // the epilogue the last launch ran
  for (Operation &op : func.getBody().front()) {
    if (!isa<LaunchOp, ElementwiseOp>(op))
      continue;
    if (op.hasAttr(kEpilogueAttr)) {
      if (&op != taken.getOperation())
        return op.emitOpError("is a matmul epilogue that does not follow the "
                              "launch writing its output");
      continue;
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    // A launch takes the epilogue loop right after it, which reads and
    // writes the launch's result (emitted inside the launch's step).
    auto epilogue = dyn_cast_or_null<ElementwiseOp>(op.getNextNode());
    if (epilogue &&
        (!epilogue->hasAttr(kEpilogueAttr) || !isa<LaunchOp>(op) ||
         cast<LaunchOp>(op).getOutputs().size() != 1 ||
         cast<LaunchOp>(op).getOutputs()[0] != epilogue.getOutput()))
      epilogue = nullptr;
    taken = epilogue;
    LogicalResult result = isa<LaunchOp>(op)
                               ? emitLaunch(cast<LaunchOp>(op), os, epilogue)
                               : emitElementwise(cast<ElementwiseOp>(op), os);
    if (failed(result))
      return failure();
    steps.push_back(std::move(os.str()));
  }
  // Repeated blocks (layers) become one function each, written here, and
  // calls; then the items (steps and calls) are placed in runs of at most
  // kStepsPerFunction.
  std::vector<std::string> items;
  if (options.outlineRepeats)
    outline(steps, 0, items);
  else
    items = std::move(steps);
  SmallVector<ArrayRef<std::string>> runs;
  ArrayRef<std::string> rest = items;
  do {
    runs.push_back(rest.take_front(kStepsPerFunction));
    rest = rest.drop_front(runs.back().size());
  } while (!rest.empty());
  // A long program is one function per run, which the entry point calls
  // in order with what it unpacked from the invocation.
  std::string entry = "entry_" + std::to_string(index);
  bool split = runs.size() > 1;
  for (auto [part, run] : llvm::enumerate(runs)) {
    if (!split)
      break;
    file << "// entry point '" << func.getName() << "', items "
         << part * kStepsPerFunction << " to "
         << part * kStepsPerFunction + run.size() - 1 << "\n";
    // noinline: GCC inlines a static function called once into its
    // caller, which would make the one long function again.
    file << "__attribute__((noinline)) int " << entry << "_part" << part
         << "(const anvil_host_api *host, const void *const *inputs,\n"
            "    void *const *outputs, void *const *states, const int64_t "
            "*sizes,\n    unsigned char *arena, const unsigned char *weights) "
            "{\n";
    file << "  (void)inputs;\n  (void)outputs;\n  (void)states;\n"
            "  (void)sizes;\n  (void)arena;\n  (void)weights;\n";
    emitSteps(run, file);
    file << "  return 0;\n}\n\n";
  }

  int64_t numInputs = func->getAttrOfType<IntegerAttr>(kNumInputsAttr).getInt();
  file << "// entry point '" << func.getName() << "'\n";
  // The ABI's entry (runtime/include/anvil/abi.h), unpacked into the locals
  // the body uses. The kernels get RunScope's host pointer, through which
  // their failure reasons reach the invocation's error buffer from any
  // thread.
  int64_t stateCount = numStates(func);
  int64_t numOutputs =
      static_cast<int64_t>(func.getNumArguments()) - numInputs - stateCount;
  file
      << "int " << entry
      << "(const anvil_host_api *host, const anvil_invocation *invocation) {\n";
  file << "  anvil::cpu::RunScope run_scope(host, invocation);\n"
       << "  host = run_scope.host();\n";
  file << "  if (invocation->num_inputs != " << numInputs
       << " || invocation->num_outputs != " << numOutputs
       << " || invocation->num_states != " << stateCount << ")\n"
       << "    return anvil::cpu::fail(host, \"entry point '" << func.getName()
       << "' called with the wrong number of buffers\");\n";
  file << "  const void *const *inputs = invocation->inputs;\n";
  file << "  void *const *outputs = invocation->outputs;\n";
  file << "  void *const *states = invocation->states;\n";
  file << "  const int64_t *sizes = invocation->sizes;\n";
  file << "  unsigned char *arena = static_cast<unsigned char "
          "*>(invocation->arena);\n";
  file << "  const unsigned char *weights = static_cast<const unsigned char "
          "*>(invocation->weights);\n";
  file << "  (void)inputs;\n  (void)outputs;\n  (void)states;\n"
          "  (void)sizes;\n  (void)arena;\n  (void)weights;\n";
  // The bounded sizes of this call, in the order of the manifest's "sizes"
  // table (kernel.sizes); the runtime has checked them against the bounds.
  file << "  if (invocation->num_sizes != " << numSizes(func) << ")\n"
       << "    return anvil::cpu::fail(host, \"entry point '" << func.getName()
       << "' called with the wrong number of sizes\");\n";
  if (split) {
    for (size_t part = 0; part < runs.size(); ++part)
      file << "  ANVIL_TRY(" << entry << "_part" << part
           << "(host, inputs, outputs, states, sizes, arena, weights));\n";
  } else {
    // Every argument is declared, used or not, as the signature shows.
    for (BlockArgument arg : func.getArguments())
      used.insert(bufferOf.lookup(arg));
    emitSteps(runs.front(), file);
  }
  file << "  return 0;\n}\n\n";
  return success();
}

/// Writes what entry point `func` (number `index`) was compiled for, as the
/// arrays its anvil_code_entry points to (abi.h), and returns the entry's
/// initializer. The loader checks the manifest against this record, so a
/// manifest edited to smaller shapes, another arena or a shorter weights
/// section is refused instead of letting this code read or write past its
/// buffers. Dims the manifest cannot name (a computed size) are written as
/// an invalid size number: buildManifest refuses those models anyway.
FailureOr<std::string> emitCodeRecord(func::FuncOp func, size_t index,
                                      int64_t weightBytes, raw_ostream &os) {
  auto symbols = parseSizeSymbols(func->getAttr(anvil::kernel::kSizesAttr));
  if (failed(symbols))
    return func.emitError()
           << "malformed '" << anvil::kernel::kSizesAttr << "'";
  std::string prefix = "k" + std::to_string(index);
  os << "// What entry point '" << func.getName()
     << "' was compiled for (the loader checks the manifest against it).\n"
     << "// Sizes {min, max}; tensors {anvil_dtype, rank, dims}, a run-time "
        "size k as ANVIL_CODE_DIM_SIZE(k).\n";
  std::string sizes = "nullptr";
  if (!symbols->empty()) {
    sizes = prefix + "Sizes";
    os << "const anvil_code_size " << sizes << "[] = {";
    llvm::interleaveComma(*symbols, os, [&](const SizeSymbol &symbol) {
      os << "{INT64_C(" << symbol.min << "), INT64_C(" << symbol.max << ")}";
    });
    os << "};\n";
  }
  int64_t numInputs = func->getAttrOfType<IntegerAttr>(kNumInputsAttr).getInt();
  int64_t stateCount = numStates(func);
  SmallVector<std::string> tensors[3]; // inputs, outputs, states
  for (BlockArgument arg : func.getArguments()) {
    auto type = arg.getType().cast<MemRefType>();
    const DType *dtype = dtypeOf(type.getElementType());
    if (!dtype)
      return func.emitError("argument #")
             << arg.getArgNumber() << " has the element type "
             << type.getElementType() << ", which the runtime has no dtype for";
    SmallVector<AffineExpr> exprs = getBufferDims(arg);
    SmallVector<std::string> dims;
    for (auto [i, dim] : llvm::enumerate(type.getShape())) {
      if (dim != ShapedType::kDynamic) {
        dims.push_back("INT64_C(" + std::to_string(dim) + ")");
        continue;
      }
      size_t k = symbols->size();
      if (i < exprs.size())
        if (auto symbol = exprs[i].dyn_cast<AffineSymbolExpr>())
          k = symbol.getPosition();
      dims.push_back("ANVIL_CODE_DIM_SIZE(" + std::to_string(k) + ")");
    }
    std::string dimsName = "nullptr";
    if (!dims.empty()) {
      dimsName = prefix + "Dims" + std::to_string(arg.getArgNumber());
      os << "const int64_t " << dimsName << "[] = {" << llvm::join(dims, ", ")
         << "};\n";
    }
    int64_t i = arg.getArgNumber();
    tensors[i < numInputs                ? 0
            : i < numInputs + stateCount ? 2
                                         : 1]
        .push_back("{" + std::to_string(dtype->value) + ", " +
                   std::to_string(type.getRank()) + ", " + dimsName + "}");
  }
  std::string lists[3] = {"nullptr", "nullptr", "nullptr"};
  for (int k = 0; k < 3; ++k) {
    if (tensors[k].empty())
      continue;
    lists[k] = prefix + (k == 0 ? "Inputs" : k == 1 ? "Outputs" : "States");
    os << "const anvil_code_tensor " << lists[k] << "[] = {"
       << llvm::join(tensors[k], ", ") << "};\n";
  }
  auto arena = func->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
  return llvm::formatv("{{\"{0}\", entry_{1}, UINT64_C({2}), UINT64_C({3}), "
                       "{4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}}",
                       func.getName(), index, arena ? arena.getInt() : 0,
                       weightBytes, symbols->size(), tensors[0].size(),
                       tensors[1].size(), tensors[2].size(), sizes, lists[0],
                       lists[1], lists[2])
      .str();
}

} // namespace

LogicalResult emitCpuSource(ModuleOp module, const CpuSourceOptions &options,
                            raw_ostream &os) {
  os << "// Generated by anvilc for the cpu target. Kernels: "
        "backends/cpu/kernels; ABI: runtime/include/anvil/abi.h.\n"
        "#include \"anvil_cpu_kernels.h\"\n\n"
        // The elementwise bodies below round every intermediate to its
        // type, as the constant folder evaluates them (docs/folding.md);
        // contracting a * b + c into an FMA (GCC does so by default when
        // the target has FMA, even across statements) would change the
        // last bit with the -mcpu level. The kernel headers above keep
        // the compiler's default.
        "#if defined(__clang__)\n"
        "#pragma clang fp contract(off)\n"
        "#elif defined(__GNUC__)\n"
        "#pragma GCC optimize(\"fp-contract=off\")\n"
        "#endif\n\n"
        "namespace {\n\n";
  SmallVector<func::FuncOp> entries;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(kNumInputsAttr))
      entries.push_back(func);
  for (auto [index, func] : llvm::enumerate(entries))
    if (failed(FunctionEmitter(func, os, index, options).emit()))
      return failure();
  auto weightBytes = module->getAttrOfType<IntegerAttr>(kWeightBytesAttr);
  SmallVector<std::string> records;
  for (auto [index, func] : llvm::enumerate(entries)) {
    FailureOr<std::string> record =
        emitCodeRecord(func, index, weightBytes ? weightBytes.getInt() : 0, os);
    if (failed(record))
      return failure();
    records.push_back(*record);
  }
  os << "\n// {name, function, arena_bytes, weight_bytes, num_sizes, "
        "num_inputs, num_outputs, num_states, sizes, inputs, outputs, "
        "states}\n"
     << "const anvil_code_entry kEntries[] = {\n";
  for (const std::string &record : records)
    os << "    " << record << ",\n";
  if (entries.empty())
    os << "    {},\n";
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
