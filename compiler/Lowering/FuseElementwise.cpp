//===- FuseElementwise.cpp - merge chains of elementwise loops ------------===//

#include "compiler/Lowering/Passes.h"
#include "dialects/ElementTypes.h"

#include "mlir/IR/IRMapping.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILFUSEELEMENTWISE
#include "compiler/Lowering/Passes.h.inc"
} // namespace anvil

using namespace mlir;
using namespace anvil::kernel;

namespace anvil {
namespace {

/// The loop that writes `buffer`, when `buffer` is an alloc written by one
/// same-shaped elementwise loop and read by `consumer` alone.
ElementwiseOp fusableProducer(Value buffer, ElementwiseOp consumer) {
  auto alloc = buffer.getDefiningOp<AllocOp>();
  if (!alloc)
    return nullptr;
  ElementwiseOp producer;
  for (Operation *user : alloc->getUsers()) {
    if (user == consumer.getOperation())
      continue;
    auto loop = dyn_cast<ElementwiseOp>(user);
    if (!loop || loop.getOutput() != buffer || producer)
      return nullptr;
    producer = loop;
  }
  // The consumer must read it exactly once and without broadcasting.
  if (!producer || llvm::count(consumer.getInputs(), buffer) != 1 ||
      buffer.getType() !=
          consumer.getOutput().getType().cast<MemRefType>().clone(
              buffer.getType().cast<MemRefType>().getElementType()) ||
      getBufferDims(buffer) != getBufferDims(consumer.getOutput()))
    return nullptr;
  if (producer->getBlock() != consumer->getBlock() ||
      !producer->isBeforeInBlock(consumer))
    return nullptr;
  return producer;
}

/// A loop and the producers fused into it, each producer with the input
/// buffer it writes, in the loop's input order.
struct Group {
  ElementwiseOp loop;
  SmallVector<std::pair<Value, ElementwiseOp>> producers;
};

/// Replaces the tree of loops rooted at `root` by one loop at the root's
/// place. Its inputs are the root's own inputs in order, then each fused
/// producer's, without repeats; its body is each producer's (in input
/// order) before the root's own. Every op is cloned once, so the cost is
/// linear in the tree's size however deep it is.
void fuseTree(ElementwiseOp root, const DenseMap<Operation *, Group> &groups) {
  auto producersOf = [&](ElementwiseOp loop) {
    auto it = groups.find(loop);
    return it == groups.end() ? ArrayRef<std::pair<Value, ElementwiseOp>>()
                              : ArrayRef(it->second.producers);
  };
  auto isFused = [&](ElementwiseOp loop, Value in) {
    return llvm::any_of(producersOf(loop),
                        [&](auto &p) { return p.first == in; });
  };
  // Pre-order for the inputs (a loop's own, then its producers'), post-
  // order for the body (producers first); explicit stacks, as chains of
  // tens of thousands of loops are too deep to recurse.
  SmallVector<Value> inputs;
  DenseMap<Value, unsigned> argOf;
  SmallVector<ElementwiseOp> preorder, stack{root};
  while (!stack.empty()) {
    ElementwiseOp loop = stack.pop_back_val();
    preorder.push_back(loop);
    for (Value in : loop.getInputs())
      if (!isFused(loop, in) && argOf.try_emplace(in, inputs.size()).second)
        inputs.push_back(in);
    for (auto &[buffer, producer] : llvm::reverse(producersOf(loop)))
      stack.push_back(producer);
  }

  OpBuilder b(root);
  auto fused = b.create<ElementwiseOp>(root.getLoc(), inputs, root.getOutput());
  SmallVector<Type> types;
  for (Value in : inputs)
    types.push_back(
        signlessType(in.getType().cast<MemRefType>().getElementType()));
  SmallVector<Location> locs(types.size(), root.getLoc());
  Block *block = b.createBlock(&fused.getBody(), {}, types, locs);

  // Producers before consumers, and in input order among siblings: the
  // reverse of the pre-order with each loop's producers reversed.
  IRMapping map;
  DenseMap<Operation *, Value> produced;
  SmallVector<std::pair<ElementwiseOp, bool>> work{{root, false}};
  while (!work.empty()) {
    auto [loop, expanded] = work.pop_back_val();
    if (!expanded) {
      work.push_back({loop, true});
      for (auto &[buffer, producer] : llvm::reverse(producersOf(loop)))
        work.push_back({producer, false});
      continue;
    }
    Block &body = loop.getBody().front();
    for (auto [arg, in] : llvm::zip(body.getArguments(), loop.getInputs())) {
      Value value;
      for (auto &[buffer, producer] : producersOf(loop))
        if (buffer == in)
          value = produced.lookup(producer);
      map.map(arg, value ? value : block->getArgument(argOf.lookup(in)));
    }
    for (Operation &op : body.without_terminator())
      b.clone(op, map);
    Value yielded = map.lookup(cast<YieldOp>(body.getTerminator()).getValue());
    if (loop == root)
      b.create<YieldOp>(root.getLoc(), yielded);
    else
      produced[loop] = yielded;
  }
  // The loops, then the buffers between them (unused by then).
  SmallVector<Operation *> allocs;
  for (ElementwiseOp loop : preorder) {
    for (auto &[buffer, producer] : producersOf(loop))
      allocs.push_back(buffer.getDefiningOp());
    loop.erase();
  }
  for (Operation *alloc : allocs)
    alloc->erase();
}

struct FuseElementwisePass
    : impl::AnvilFuseElementwiseBase<FuseElementwisePass> {
  using AnvilFuseElementwiseBase::AnvilFuseElementwiseBase;

  void runOnOperation() override {
    // Which producer fuses into which consumer, decided on the program as
    // it is: a producer's output has one reader, so the decisions form
    // trees, and each tree becomes one loop. One walk and a rewrite per
    // tree; fusing a pair at a time and rescanning was quadratic.
    DenseMap<Operation *, Group> groups;
    DenseSet<Operation *> fusedAway;
    // The body ops and inputs (counted with repeats) of the loop each
    // loop's tree would become.
    DenseMap<Operation *, std::pair<int64_t, int64_t>> sizes;
    SmallVector<ElementwiseOp> loops;
    getOperation().walk([&](ElementwiseOp loop) { loops.push_back(loop); });
    for (ElementwiseOp consumer : loops) {
      Block &body = consumer.getBody().front();
      int64_t ops = static_cast<int64_t>(body.getOperations().size()) - 1;
      int64_t inputs = consumer.getInputs().size();
      for (Value in : consumer.getInputs()) {
        ElementwiseOp producer = fusableProducer(in, consumer);
        if (!producer)
          continue;
        // Past the bounds the loop stops growing: the C++ compilers take
        // time superlinear in a loop body's length (GCC 12: 0.7 s for a
        // body of 8,500 statements, 8 s for 34,000), and a longer body
        // saves no memory traffic worth having.
        auto [producerOps, producerInputs] = sizes.lookup(producer);
        if (ops + producerOps > maxOps ||
            inputs - 1 + producerInputs > maxInputs)
          continue;
        ops += producerOps;
        inputs += producerInputs - 1;
        Group &group = groups[consumer];
        group.loop = consumer;
        group.producers.push_back({in, producer});
        fusedAway.insert(producer);
      }
      sizes[consumer] = {ops, inputs};
    }
    for (ElementwiseOp loop : loops)
      if (groups.count(loop) && !fusedAway.count(loop))
        fuseTree(loop, groups);
  }
};

} // namespace
} // namespace anvil
