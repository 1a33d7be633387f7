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

#include "dialects/Kernel/KernelDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/Kernel/KernelOps.h.inc"

namespace anvil::kernel {

/// Function attributes of a kernel program.
constexpr llvm::StringLiteral kNumInputsAttr = "kernel.num_inputs";
constexpr llvm::StringLiteral kArenaBytesAttr = "kernel.arena_bytes";
constexpr llvm::StringLiteral kNaiveArenaBytesAttr = "kernel.naive_arena_bytes";
constexpr llvm::StringLiteral kWeightBytesAttr = "kernel.weight_bytes";

/// Bytes a buffer of this type occupies (one byte per i1).
int64_t bufferBytes(mlir::MemRefType type);

/// Bytes one element of `type` occupies in a buffer.
int64_t elementBytes(mlir::Type type);

/// Scalars in elementwise regions are signless (`arith` wants them so); a
/// ui8 buffer's elements are i8 there.
mlir::Type signless(mlir::Type type);

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
