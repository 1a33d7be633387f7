//===- FuseMatmulEpilogue.cpp - run a matmul's elementwise tail inside it -===//
//
// A matmul whose result only one elementwise loop reads (a bias add, an
// activation, a residual add, or a chain of them that anvil-fuse-elementwise
// merged) keeps that loop as its epilogue: the launch writes the loop's
// output, and the kernel runs the loop's body on each block of the result
// it finishes, while the block is still in cache, instead of a second pass
// over the whole result (and a second parallel loop) after it. The loop's
// operations are unchanged, so the results are the same bits.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILFUSEMATMULEPILOGUE
#include "compiler/Lowering/Passes.h.inc"
} // namespace anvil

using namespace mlir;
using namespace anvil::kernel;

namespace anvil {
namespace {

/// The buffer `value` is a view of (itself when it is none).
Value rootBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewOp>())
    value = view.getSource();
  return value;
}

/// The buffers `op` writes.
SmallVector<Value> writtenBuffers(Operation *op) {
  if (auto launch = dyn_cast<LaunchOp>(op))
    return SmallVector<Value>(launch.getOutputs());
  if (auto loop = dyn_cast<ElementwiseOp>(op))
    return {loop.getOutput()};
  return {};
}

/// Whether the op defining `value` can move before `launch` (with what it
/// uses): a block argument or an op already before it, or an alloc, a
/// weight, or a view of such a buffer.
bool canHoist(Value value, Operation *launch) {
  Operation *def = value.getDefiningOp();
  if (!def || def->isBeforeInBlock(launch) || def == launch)
    return def != launch;
  if (isa<AllocOp, WeightOp>(def))
    return true;
  if (auto view = dyn_cast<ViewOp>(def))
    return canHoist(view.getSource(), launch);
  return false;
}

/// Moves the op defining `value` (and a view's source's) before `launch`
/// when it is after it (canHoist said it can).
void hoist(Value value, Operation *launch) {
  Operation *def = value.getDefiningOp();
  if (!def || def->isBeforeInBlock(launch))
    return;
  if (auto view = dyn_cast<ViewOp>(def))
    hoist(view.getSource(), launch);
  def->moveBefore(launch);
}

/// Whether the kernel of `launch` takes an epilogue (matmul.h's matmul of
/// one matrix, matmul_quant.h, conv.h's conv2d) and writes float results.
bool takesEpilogue(LaunchOp launch) {
  StringRef kernel = launch.getKernel();
  if (kernel == "matmul") {
    auto batchRank = launch.getParams().getAs<IntegerAttr>("batch_rank");
    if (!batchRank || batchRank.getInt() != 0)
      return false;
  } else if (kernel != "matmul_quant" && kernel != "conv2d") {
    return false;
  }
  return launch.getOutputs().size() == 1 && launch.getOutputs()[0]
                                                .getType()
                                                .cast<MemRefType>()
                                                .getElementType()
                                                .isF32();
}

/// Makes the loop that alone reads `launch`'s result its epilogue, when
/// that is safe; returns whether it did.
bool fuseEpilogue(LaunchOp launch) {
  if (!takesEpilogue(launch))
    return false;
  Value result = launch.getOutputs()[0];
  auto alloc = result.getDefiningOp<AllocOp>();
  if (!alloc)
    return false;
  ElementwiseOp loop;
  for (Operation *user : result.getUsers()) {
    if (user == launch.getOperation())
      continue;
    auto reader = dyn_cast<ElementwiseOp>(user);
    if (!reader || loop) // a view, another reader, a second loop
      return false;
    loop = reader;
  }
  if (!loop || loop->getBlock() != launch->getBlock() ||
      !launch->isBeforeInBlock(loop) || loop->hasAttr(kEpilogueAttr) ||
      loop.getOutput() == result)
    return false;
  // The loop's output takes the result's place: same type and dims (the
  // result is read element by element, not broadcast).
  Value output = loop.getOutput();
  if (output.getType() != result.getType() ||
      getBufferDims(output) != getBufferDims(result) ||
      output.getDefiningOp<ViewOp>() ||
      llvm::is_contained(launch->getOperands(), output))
    return false;
  // Every other input of the loop is read through (row, column) strides.
  const int64_t colDims = epilogueColumnDims(launch);
  for (Value input : loop.getInputs())
    if (input != result &&
        (input == output || !epilogueAccess(input, output, colDims)))
      return false;
  // The loop moves up to the launch: nothing between them may write what
  // it reads or touch what it writes (which the launch now writes early).
  DenseSet<Value> inputs;
  for (Value input : loop.getInputs())
    inputs.insert(rootBuffer(input));
  for (Operation *op = launch->getNextNode(); op != loop.getOperation();
       op = op->getNextNode()) {
    for (Value operand : op->getOperands())
      if (rootBuffer(operand) == output)
        return false;
    for (Value written : writtenBuffers(op))
      if (inputs.contains(rootBuffer(written)))
        return false;
  }
  for (Operation *user : output.getUsers())
    if (isa<ViewOp>(user))
      return false;
  // What the loop uses must exist at the launch: its output's alloc and
  // its inputs' weights or views move up if they come after it.
  for (Value operand : loop->getOperands())
    if (operand != result && !canHoist(operand, launch))
      return false;
  for (Value operand : loop->getOperands())
    if (operand != result)
      hoist(operand, launch);
  OpBuilder b(launch);
  launch->replaceUsesOfWith(result, output);
  loop->replaceUsesOfWith(result, output);
  loop->setAttr(kEpilogueAttr, b.getUnitAttr());
  loop->moveAfter(launch);
  alloc.erase();
  return true;
}

struct AnvilFuseMatmulEpiloguePass
    : impl::AnvilFuseMatmulEpilogueBase<AnvilFuseMatmulEpiloguePass> {
  void runOnOperation() override {
    SmallVector<LaunchOp> launches;
    getOperation().walk([&](LaunchOp launch) { launches.push_back(launch); });
    for (LaunchOp launch : launches)
      fuseEpilogue(launch);
  }
};

} // namespace
} // namespace anvil
