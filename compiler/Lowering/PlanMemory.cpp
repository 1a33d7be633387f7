//===- PlanMemory.cpp - place intermediate buffers in one arena -----------===//
//
// Live ranges are op positions in the (single-block) kernel program. Buffers
// whose ranges overlap get disjoint bytes; the rest share. Placement is
// greedy best-fit in order of decreasing size, which is simple and within a
// few percent of optimal on the straight-line programs models give.
// Buffers with bounded dims are planned at the largest size their bounds
// allow, so offsets stay static and any size in range fits.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"
#include "dialects/Anvil/ShapeUtils.h"
#include "dialects/ElementTypes.h"

#include "llvm/Support/MathExtras.h"

#include <limits>
#include <map>
#include <optional>

namespace anvil {
#define GEN_PASS_DEF_ANVILPLANMEMORY
#include "compiler/Lowering/Passes.h.inc"
} // namespace anvil

using namespace mlir;
using namespace anvil::kernel;

namespace anvil {
namespace {

constexpr int64_t kAlignment = 64;

struct Slot {
  int64_t bytes = 0;
  int64_t start = 0, end = 0; // positions, inclusive
  int64_t offset = -1;
  SmallVector<AllocOp> allocs;
};

/// The placed slots' live ranges, indexed so that placing a slot visits
/// only the slots live at the same time as it (scanning every placed slot
/// made planning quadratic in the program's length). A segment tree over
/// positions finds the ranges that contain a position (each range is kept
/// at the O(log n) nodes that tile it), a map by start the ranges that
/// start inside an interval: together, every range meeting [start, end],
/// each once.
class LiveRanges {
public:
  explicit LiveRanges(int64_t positions)
      : leaves(llvm::PowerOf2Ceil(std::max<int64_t>(positions, 1))),
        nodes(2 * leaves) {}

  void insert(int64_t start, int64_t end, size_t id) {
    byStart.emplace(start, id);
    for (uint64_t lo = start + leaves, hi = end + leaves + 1; lo < hi;
         lo >>= 1, hi >>= 1) {
      if (lo & 1)
        nodes[lo++].push_back(id);
      if (hi & 1)
        nodes[--hi].push_back(id);
    }
  }

  /// Calls `fn(id)` for every inserted range that meets [start, end].
  void forEachOverlapping(int64_t start, int64_t end,
                          function_ref<void(size_t)> fn) const {
    for (uint64_t node = start + leaves; node >= 1; node >>= 1)
      for (size_t id : nodes[node])
        fn(id);
    for (auto it = byStart.upper_bound(start);
         it != byStart.end() && it->first <= end; ++it)
      fn(it->second);
  }

private:
  uint64_t leaves;
  std::vector<SmallVector<size_t, 2>> nodes;
  std::multimap<int64_t, size_t> byStart;
};

/// The alloc a buffer's bytes belong to, through views; null for inputs,
/// outputs and weights.
AllocOp rootAlloc(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewOp>())
    buffer = view.getSource();
  return buffer.getDefiningOp<AllocOp>();
}

struct PlanMemoryPass : impl::AnvilPlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &body = func.getBody().front();
    auto symbols = parseSizeSymbols(func->getAttr(kernel::kSizesAttr));
    if (failed(symbols)) {
      func.emitError("malformed '") << kernel::kSizesAttr << "'";
      return signalPassFailure();
    }
    // Bytes at the bounds' maxima, aligned; nullopt when that does not fit
    // in int64 (sizes as large as --dim accepts).
    auto maxBytes = [&](Value buffer) -> std::optional<int64_t> {
      auto type = buffer.getType().cast<MemRefType>();
      int64_t bytes;
      if (type.hasStaticShape()) {
        int64_t elements = 1, bits;
        for (int64_t d : type.getShape())
          if (llvm::MulOverflow(elements, d, elements))
            return std::nullopt;
        if (llvm::MulOverflow(elements, elementBits(type.getElementType()),
                              bits))
          return std::nullopt;
        bytes = bits / 8 + (bits % 8 != 0); // as bufferBytes rounds
      } else {
        SmallVector<AffineExpr> dims = getBufferDims(buffer);
        std::optional<int64_t> elements =
            maxDim(productOf(func.getContext(), dims), *symbols);
        if (!elements ||
            llvm::MulOverflow(*elements, elementBytes(type.getElementType()),
                              bytes))
          return std::nullopt;
      }
      if (bytes > std::numeric_limits<int64_t>::max() - kAlignment)
        return std::nullopt;
      return (int64_t)llvm::alignTo(bytes, kAlignment);
    };
    // The arena would not fit in int64: refuse, naming the bounds.
    auto tooLarge = [&](Operation *op) {
      InFlightDiagnostic diag = op->emitOpError("needs more than 2^63 bytes");
      if (symbols->empty()) {
        diag << "; bind smaller sizes";
      } else {
        diag << " at the largest sizes the bounds allow (";
        for (const SizeSymbol &s : *symbols)
          diag << (&s == &symbols->front() ? "" : ", ") << s.name
               << " <= " << s.max;
        diag << "); lower the bounds";
      }
      signalPassFailure();
    };
    DenseMap<Operation *, int64_t> position;
    int64_t next = 0;
    for (Operation &op : body)
      position[&op] = next++;

    // One slot per alloc, with its live range through views.
    std::vector<Slot> slots;
    DenseMap<Operation *, size_t> slotOf;
    for (Operation &op : body) {
      auto alloc = dyn_cast<AllocOp>(&op);
      if (!alloc)
        continue;
      Slot slot;
      std::optional<int64_t> bytes = maxBytes(alloc);
      if (!bytes)
        return tooLarge(alloc);
      slot.bytes = *bytes;
      // Live from the first op that touches it (the alloc itself does not).
      slot.start = INT64_MAX;
      slot.end = position[alloc];
      SmallVector<Value> work{alloc.getResult()};
      while (!work.empty()) {
        Value v = work.pop_back_val();
        for (Operation *user : v.getUsers()) {
          slot.start = std::min(slot.start, position[user]);
          slot.end = std::max(slot.end, position[user]);
          if (auto view = dyn_cast<ViewOp>(user))
            work.push_back(view.getResult());
        }
      }
      slot.start = std::min(slot.start, slot.end);
      slot.allocs.push_back(alloc);
      slotOf[alloc] = slots.size();
      slots.push_back(slot);
    }
    // Every offset plus its slot is at most the sum of all slots, so the
    // plan cannot overflow once this sum does not.
    int64_t naive = 0;
    for (const Slot &slot : slots)
      if (llvm::AddOverflow(naive, slot.bytes, naive))
        return tooLarge(func);

    // In place: an elementwise loop may overwrite an input that dies there
    // and has the output's shape and element width (so element i is read
    // before it is written, and nothing else is).
    std::vector<bool> merged(slots.size(), false);
    for (Operation &op : body) {
      auto loop = dyn_cast<ElementwiseOp>(&op);
      if (!loop)
        continue;
      AllocOp out = rootAlloc(loop.getOutput());
      if (!out || loop.getOutput() != out.getResult())
        continue;
      size_t outSlot = slotOf[out];
      if (merged[outSlot] || slots[outSlot].start != position[loop])
        continue;
      for (Value in : loop.getInputs()) {
        AllocOp inAlloc = rootAlloc(in);
        if (!inAlloc ||
            in.getType().cast<MemRefType>().getShape() !=
                loop.getOutput().getType().cast<MemRefType>().getShape() ||
            getBufferDims(in) != getBufferDims(loop.getOutput()))
          continue;
        size_t inSlot = slotOf[inAlloc];
        // Same element width too: writing a wider element i would clobber
        // input element i + 1 before it is read.
        if (inSlot == outSlot || slots[inSlot].end != position[loop] ||
            slots[inSlot].bytes != slots[outSlot].bytes ||
            elementBytes(in.getType().cast<MemRefType>().getElementType()) !=
                elementBytes(loop.getOutput()
                                 .getType()
                                 .cast<MemRefType>()
                                 .getElementType()) ||
            llvm::count(loop.getInputs(), in) != 1)
          continue;
        // The output takes over the input's slot.
        slots[inSlot].end = slots[outSlot].end;
        for (AllocOp alloc : slots[outSlot].allocs) {
          slots[inSlot].allocs.push_back(alloc);
          slotOf[alloc] = inSlot;
        }
        slots[outSlot].allocs.clear();
        merged[outSlot] = true;
        break;
      }
    }

    // Best fit, largest first.
    std::vector<size_t> order;
    for (size_t i = 0; i < slots.size(); ++i)
      if (!merged[i])
        order.push_back(i);
    llvm::stable_sort(order, [&](size_t a, size_t b) {
      return slots[a].bytes > slots[b].bytes;
    });
    LiveRanges placed(next);
    int64_t peak = 0;
    std::vector<std::pair<int64_t, int64_t>> busy; // [begin, end) bytes
    for (size_t i : order) {
      Slot &slot = slots[i];
      busy.clear();
      placed.forEachOverlapping(slot.start, slot.end, [&](size_t j) {
        busy.push_back({slots[j].offset, slots[j].offset + slots[j].bytes});
      });
      llvm::sort(busy);
      int64_t offset = 0, bestOffset = -1, bestGap = INT64_MAX;
      for (auto [begin, end] : busy) {
        int64_t gap = begin - offset;
        if (gap >= slot.bytes && gap < bestGap) {
          bestGap = gap;
          bestOffset = offset;
        }
        offset = std::max(offset, end);
      }
      slot.offset = bestOffset >= 0 ? bestOffset : offset;
      peak = std::max(peak, slot.offset + slot.bytes);
      placed.insert(slot.start, slot.end, i);
    }

    OpBuilder b(func.getContext());
    for (Slot &slot : slots) {
      for (AllocOp alloc : slot.allocs) {
        b.setInsertionPoint(alloc);
        auto buffer = b.create<BufferOp>(alloc.getLoc(), alloc.getType(),
                                         b.getI64IntegerAttr(slot.offset));
        if (Attribute dims = alloc->getAttr(kDimsAttr))
          buffer->setAttr(kDimsAttr, dims);
        alloc.getResult().replaceAllUsesWith(buffer);
        alloc.erase();
      }
    }
    func->setAttr(kArenaBytesAttr, b.getI64IntegerAttr(peak));
    func->setAttr(kNaiveArenaBytesAttr, b.getI64IntegerAttr(naive));
  }
};

} // namespace
} // namespace anvil
