//===- KernelOps.h - the kernel program dialect ------------------*- C++
//-*-===//

#ifndef ANVIL_DIALECTS_KERNEL_KERNELOPS_H
#define ANVIL_DIALECTS_KERNEL_KERNELOPS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

#include "dialects/Kernel/KernelDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/Kernel/KernelOps.h.inc"

namespace anvil::kernel {

/// Function attributes of a kernel program.
constexpr llvm::StringLiteral kNumInputsAttr = "kernel.num_inputs";
/// In-out state buffers the runtime owns across runs (the KV pool): the
/// arguments after the inputs, before the outputs. Absent means none.
constexpr llvm::StringLiteral kNumStatesAttr = "kernel.num_states";
/// A kernel function's state-buffer count (its kNumStatesAttr, 0 if none).
inline int64_t numStates(mlir::Operation *func) {
  auto states = func->getAttrOfType<mlir::IntegerAttr>(kNumStatesAttr);
  return states ? states.getInt() : 0;
}
constexpr llvm::StringLiteral kArenaBytesAttr = "kernel.arena_bytes";
constexpr llvm::StringLiteral kNaiveArenaBytesAttr = "kernel.naive_arena_bytes";
constexpr llvm::StringLiteral kWeightBytesAttr = "kernel.weight_bytes";
/// The bytes of the weight section that a run reads whole: every copy but
/// those only `gather` kernels read (a token embedding, of which a decode
/// step reads one row per token) and those nothing reads. The decode
/// roofline's bytes per step.
constexpr llvm::StringLiteral kStreamedWeightBytesAttr =
    "kernel.streamed_weight_bytes";
/// The bounded sizes a function's entry point receives at run time, in the
/// order of its `sizes[]`: `[{name = "seq", min = 1, max = 512}]`.
constexpr llvm::StringLiteral kSizesAttr = "kernel.sizes";
/// On a buffer with `?` dims (an alloc, arena slot or view; an argument
/// attribute for the entry point's buffers): all its dims as an affine map
/// over the sizes, `affine_map<()[s0] -> (1, s0, 64)>`.
constexpr llvm::StringLiteral kDimsAttr = "kernel.dims";

/// The dims of a buffer: static ones as constants, `?` ones from its
/// `kernel.dims`. Empty (for a ranked buffer of rank > 0) when a `?` dim has
/// no expression.
llvm::SmallVector<mlir::AffineExpr> getBufferDims(mlir::Value buffer);

/// Attaches `dims` to the buffer `op` defines when one is symbolic.
void setBufferDims(mlir::Operation *op, llvm::ArrayRef<mlir::AffineExpr> dims);

/// The number of sizes of the function around `op` (its `kernel.sizes`).
unsigned numSizes(mlir::Operation *op);

/// broadcastStrides over expressions.
llvm::SmallVector<mlir::AffineExpr>
broadcastStrides(llvm::ArrayRef<mlir::AffineExpr> shape, size_t rank,
                 mlir::AffineExpr innermost);
/// broadcastsTo over expressions: a dim broadcasts when it is 1 or equal.
bool broadcastsTo(llvm::ArrayRef<mlir::AffineExpr> input,
                  llvm::ArrayRef<mlir::AffineExpr> output);

/// A kernel.elementwise loop with this attribute runs inside the matmul
/// launch right before it (anvil-fuse-matmul-epilogue): the launch writes
/// the loop's output, and the loop rewrites each block of it in place as
/// the launch finishes the block.
constexpr llvm::StringLiteral kEpilogueAttr = "kernel.epilogue";

/// How a kernel's epilogue reads an operand of its loop: element (i, j) of
/// the [m, n] result (the output's leading dims flattened into m, its
/// last `colDims` dims into n) at i * rowStride + j * colStride of the
/// operand. A matmul's n is its last dim (colDims 1); a convolution's [N,
/// M, spatial...] output has n = the spatial dims (colDims = rank - 2).
struct EpilogueAccess {
  mlir::AffineExpr rowStride, colStride;
};
/// The access of `operand` (an input of the elementwise loop over `output`,
/// broadcast to it numpy's way) in that form: the operand has the
/// output's leading dims or only 1s there, and its trailing `colDims` dims
/// equal the output's or are all 1. std::nullopt for any other broadcast
/// (over some leading dims only, or some trailing dims only), which the
/// flattened rows and columns cannot express.
std::optional<EpilogueAccess>
epilogueAccess(mlir::Value operand, mlir::Value output, int64_t colDims = 1);
/// The colDims of `launch`'s epilogue: a conv2d's [N, M, spatial...]
/// output is blocked by (image and channel) rows and spatial columns
/// (rank - 2 of them); a matmul's by its last dim.
int64_t epilogueColumnDims(LaunchOp launch);

/// Bytes a buffer of this type occupies (one byte per i1).
int64_t bufferBytes(mlir::MemRefType type);

/// Bytes one element of `type` occupies in a buffer.
int64_t elementBytes(mlir::Type type);

/// Whether `input` broadcasts to `output` with numpy rules.
bool broadcastsTo(llvm::ArrayRef<int64_t> input,
                  llvm::ArrayRef<int64_t> output);

/// The element strides of a row-major buffer of `shape`, right-aligned into
/// `rank` dims as numpy broadcasting does: 0 for its size-1 dims and for the
/// dims it lacks. `innermost` is the stride of its last dim (1 for a plain
/// buffer; the matrix size for batch dims in front of matrices).
llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> shape,
                                            size_t rank, int64_t innermost = 1);

} // namespace anvil::kernel

#endif // ANVIL_DIALECTS_KERNEL_KERNELOPS_H
