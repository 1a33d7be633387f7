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

void fuse(ElementwiseOp producer, ElementwiseOp consumer, Value buffer) {
  OpBuilder b(consumer);
  SmallVector<Value> inputs;
  for (Value in : consumer.getInputs())
    if (in != buffer)
      inputs.push_back(in);
  for (Value in : producer.getInputs())
    if (!llvm::is_contained(inputs, in))
      inputs.push_back(in);
  auto fused =
      b.create<ElementwiseOp>(consumer.getLoc(), inputs, consumer.getOutput());
  SmallVector<Type> types;
  for (Value in : inputs)
    types.push_back(
        signlessType(in.getType().cast<MemRefType>().getElementType()));
  SmallVector<Location> locs(types.size(), consumer.getLoc());
  Block *block = b.createBlock(&fused.getBody(), {}, types, locs);
  auto argFor = [&](Value in) {
    return block->getArgument(llvm::find(inputs, in) - inputs.begin());
  };
  IRMapping map;
  Block &producerBody = producer.getBody().front();
  for (auto [arg, in] :
       llvm::zip(producerBody.getArguments(), producer.getInputs()))
    map.map(arg, argFor(in));
  for (Operation &op : producerBody.without_terminator())
    b.clone(op, map);
  Value produced =
      map.lookup(cast<YieldOp>(producerBody.getTerminator()).getValue());
  Block &consumerBody = consumer.getBody().front();
  for (auto [arg, in] :
       llvm::zip(consumerBody.getArguments(), consumer.getInputs()))
    map.map(arg, in == buffer ? produced : argFor(in));
  for (Operation &op : consumerBody)
    b.clone(op, map);
  Operation *alloc = buffer.getDefiningOp();
  consumer.erase();
  producer.erase();
  alloc->erase();
}

struct FuseElementwisePass
    : impl::AnvilFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<ElementwiseOp> loops;
      getOperation().walk([&](ElementwiseOp loop) { loops.push_back(loop); });
      for (ElementwiseOp consumer : loops) {
        for (Value in : consumer.getInputs()) {
          if (ElementwiseOp producer = fusableProducer(in, consumer)) {
            fuse(producer, consumer, in);
            changed = true;
            break;
          }
        }
        if (changed)
          break; // the walk's list holds erased loops now
      }
    }
  }
};

} // namespace
} // namespace anvil
