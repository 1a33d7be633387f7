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
/// each once. Both also keep counts and the highest byte used, so how
/// many ranges meet an interval and how high they reach take O(log n)
/// without visiting them.
class LiveRanges {
public:
  explicit LiveRanges(int64_t positions)
      : leaves(llvm::PowerOf2Ceil(std::max<int64_t>(positions, 1))),
        nodes(2 * leaves), nodeTop(2 * leaves, 0), startCount(2 * leaves, 0),
        startTop(2 * leaves, 0) {}

  /// Adds the range [start, end] of slot `id`, whose bytes end at `top`.
  void insert(int64_t start, int64_t end, size_t id, int64_t top) {
    byStart.emplace(start, id);
    for (uint64_t lo = start + leaves, hi = end + leaves + 1; lo < hi;
         lo >>= 1, hi >>= 1) {
      if (lo & 1) {
        nodeTop[lo] = std::max(nodeTop[lo], top);
        nodes[lo++].push_back(id);
      }
      if (hi & 1) {
        --hi;
        nodeTop[hi] = std::max(nodeTop[hi], top);
        nodes[hi].push_back(id);
      }
    }
    for (uint64_t node = start + leaves; node >= 1; node >>= 1) {
      ++startCount[node];
      startTop[node] = std::max(startTop[node], top);
    }
  }

  /// How many inserted ranges meet [start, end], and the highest byte
  /// they use.
  std::pair<int64_t, int64_t> countAndTop(int64_t start, int64_t end) const {
    int64_t count = 0, top = 0;
    for (uint64_t node = start + leaves; node >= 1; node >>= 1) {
      count += nodes[node].size();
      top = std::max(top, nodeTop[node]);
    }
    for (uint64_t lo = start + 1 + leaves, hi = end + leaves + 1; lo < hi;
         lo >>= 1, hi >>= 1) {
      if (lo & 1) {
        count += startCount[lo];
        top = std::max(top, startTop[lo++]);
      }
      if (hi & 1) {
        count += startCount[--hi];
        top = std::max(top, startTop[hi]);
      }
    }
    return {count, top};
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
  std::vector<int64_t> nodeTop;
  // Over start positions: ranges starting under each node, their top.
  std::vector<int64_t> startCount, startTop;
  std::multimap<int64_t, size_t> byStart;
};

/// Best fit looks for a gap among at most this many buffers live beside
/// the one being placed; beyond that (a fan of thousands of branches all
/// live at once) the buffer goes above them all, so planning stays
/// near-linear however wide the program is.
constexpr int64_t kBestFitNeighbours = 512;

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
      auto [neighbours, top] = placed.countAndTop(slot.start, slot.end);
      if (neighbours > kBestFitNeighbours) {
        slot.offset = top;
        peak = std::max(peak, slot.offset + slot.bytes);
        placed.insert(slot.start, slot.end, i, slot.offset + slot.bytes);
        continue;
      }
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
      placed.insert(slot.start, slot.end, i, slot.offset + slot.bytes);
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
    // The runtime refuses a larger arena at load time (anvil/limits.h):
    // refuse it here, where the user can still change the sizes.
    if (uint64_t(peak) > limits::kMaxArenaBytes) {
      func.emitError() << "the scratch arena needs " << peak
                       << " bytes, more than the runtime's limit of "
                       << limits::kMaxArenaBytes
                       << " bytes (anvil/limits.h); compile for smaller sizes";
      return signalPassFailure();
    }
    func->setAttr(kArenaBytesAttr, b.getI64IntegerAttr(peak));
    func->setAttr(kNaiveArenaBytesAttr, b.getI64IntegerAttr(naive));
  }
};

} // namespace
} // namespace anvil
