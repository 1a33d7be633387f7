//===- AnvilOps.td - operations of the anvil dialect -------*- tablegen -*-===//
//
// Conventions: axes in attributes are normalized to be non-negative (the
// importer resolves ONNX's negative axes against the known rank); every op
// implements InferShapeOpInterface; every op is Pure unless noted.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_OPS_TD
#define ANVIL_OPS_TD

include "dialects/Anvil/AnvilDialect.td"
include "dialects/Anvil/AnvilEnums.td"
include "dialects/Anvil/AnvilInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Anvil_InferredOp<string mnemonic, list<Trait> traits = []>
    : Anvil_Op<mnemonic, !listconcat(traits, [Pure,
        DeclareOpInterfaceMethods<Anvil_InferShapeOpInterface>])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  // Every op is verified against its own shape inference.
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return ::anvil::verifyInferredResultTypes(getOperation());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Constants and shape arithmetic
//===----------------------------------------------------------------------===//

def Anvil_ConstantOp : Anvil_InferredOp<"constant", [ConstantLike]> {
  let summary = "a constant tensor";
  let description = [{
    Small constants hold a `dense<...>` attribute. Weights hold a
    `dense_resource<...>` attribute whose blob is the initializer's bytes,
    owned without a copy; `anvilc --emit=mlir` elides those blobs unless
    `--print-weights` is given.

    ```mlir
    %0 = anvil.constant dense<[1, 128]> : tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Anvil_Tensor:$result);
  let hasCustomAssemblyFormat = 1;
  let assemblyFormat = ?;
  let hasFolder = 1;
  let builders = [OpBuilder<(ins "::mlir::ElementsAttr":$value), [{
    build($_builder, $_state, value.getType(), value);
  }]>];
}

def Anvil_ShapeOfOp : Anvil_InferredOp<"shape_of"> {
  let summary = "the shape of a tensor, as a 1-D i64 tensor";
  let description = [{
    Dimensions `[start, end)` of the input's shape (ONNX `Shape`). Folds to a
    constant when those dimensions are static.

    ```mlir
    %s = anvil.shape_of %x {end = 2 : i64, start = 0 : i64} : (tensor<1x?x64xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input,
                       DefaultValuedAttr<I64Attr, "0">:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs TensorOf<[I64]>:$result);
  let hasFolder = 1;
}

def Anvil_ReshapeOp : Anvil_InferredOp<"reshape"> {
  let summary = "reshape to a shape given as a tensor";
  let description = [{
    ONNX `Reshape` semantics: a `0` in `shape` copies the input's dimension
    (unless `allowzero`), one `-1` is inferred from the element count.
    When `shape` is a constant the result type is fully known and the
    canonicalizer folds chains of reshapes.

    ```mlir
    %r = anvil.reshape %x, %shape : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$shape,
                       DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_TransposeOp : Anvil_InferredOp<"transpose"> {
  let hasCanonicalizer = 1;
  let summary = "permute dimensions";
  let description = [{
    ```mlir
    %t = anvil.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_ConcatOp : Anvil_InferredOp<"concat"> {
  let summary = "concatenate tensors along an axis";
  let description = [{
    ```mlir
    %c = anvil.concat %a, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
    ```
  }];
  let arguments = (ins Variadic<Anvil_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_SliceOp : Anvil_InferredOp<"slice"> {
  let summary = "strided slice with ONNX semantics";
  let description = [{
    `starts`, `ends`, `axes` and `steps` are 1-D tensors of equal length, as in
    ONNX `Slice` (negative indices count from the end and are clamped). The
    importer materializes omitted `axes` and `steps`.

    ```mlir
    %s = anvil.slice %x, %starts, %ends, %axes, %steps
        : (tensor<4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x2xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$starts,
                       Anvil_IndexTensor:$ends, Anvil_IndexTensor:$axes,
                       Anvil_IndexTensor:$steps);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_GatherOp : Anvil_InferredOp<"gather"> {
  let summary = "gather slices along an axis (also: embedding lookup)";
  let description = [{
    ONNX `Gather`: the result shape is
    `input.shape[:axis] + indices.shape + input.shape[axis+1:]`; negative
    indices count from the end.

    ```mlir
    %e = anvil.gather %table, %ids {axis = 0 : i64} : (tensor<32000x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_ExpandOp : Anvil_InferredOp<"expand"> {
  let summary = "broadcast to a shape given as a tensor";
  let description = [{
    ONNX `Expand`: the result shape is the bidirectional broadcast of the
    input shape and `shape`.

    ```mlir
    %e = anvil.expand %x, %shape : (tensor<1x1x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$shape);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_UnsqueezeOp : Anvil_InferredOp<"unsqueeze"> {
  let summary = "insert unit dimensions";
  let description = [{
    `axes` index the result's dimensions.

    ```mlir
    %u = anvil.unsqueeze %x {axes = array<i64: 0>} : (tensor<4xi64>) -> tensor<1x4xi64>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_SqueezeOp : Anvil_InferredOp<"squeeze"> {
  let summary = "remove unit dimensions";
  let description = [{
    `axes` index the input's dimensions; each must have size 1.

    ```mlir
    %s = anvil.squeeze %x {axes = array<i64: 0>} : (tensor<1x4xi64>) -> tensor<4xi64>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_FlattenOp : Anvil_InferredOp<"flatten"> {
  let summary = "collapse to 2-D at an axis";
  let description = [{
    ```mlir
    %f = anvil.flatten %x {axis = 1 : i64} : (tensor<?x8x1x1xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, I64Attr:$axis);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_RangeOp : Anvil_InferredOp<"range"> {
  let summary = "1-D sequence start, start+delta, ... below limit";
  let description = [{
    Operands are scalar (rank 0) tensors of one element type.

    ```mlir
    %r = anvil.range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$start, Anvil_Tensor:$limit,
                       Anvil_Tensor:$delta);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_FillOp : Anvil_InferredOp<"fill"> {
  let summary = "a tensor of a shape given as a tensor, filled with one value";
  let description = [{
    ONNX `ConstantOfShape`. `value` is a one-element tensor attribute whose
    element type is the result's.

    ```mlir
    %f = anvil.fill %shape {value = dense<0.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Anvil_IndexTensor:$shape, ElementsAttr:$value);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_SplitOp : Anvil_InferredOp<"split"> {
  let summary = "split along an axis into pieces of given sizes";
  let description = [{
    ```mlir
    %a, %b = anvil.split %x {axis = 1 : i64, sizes = array<i64: 2, 2>} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>)
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Anvil_Tensor>:$results);
}

def Anvil_PadOp : Anvil_InferredOp<"pad"> {
  let summary = "pad (or, with negative amounts, crop) every dimension";
  let description = [{
    `pads` holds the amount before each dimension, then the amount after
    each. `mode` is `constant` (fill with `value`), `reflect` (mirror
    without repeating the edge), `edge` (repeat the edge) or `wrap`
    (periodic), as ONNX `Pad` defines them.

    ```mlir
    %p = anvil.pad %x {mode = "constant", pads = array<i64: 0, 1, 0, 1>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, DenseI64ArrayAttr:$pads,
                       StrAttr:$mode, F64Attr:$value);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_TileOp : Anvil_InferredOp<"tile"> {
  let summary = "repeat the whole tensor along each dimension";
  let description = [{
    ```mlir
    %t = anvil.tile %x {repeats = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<2x6xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_CumSumOp : Anvil_InferredOp<"cumsum"> {
  let summary = "running sum along an axis";
  let description = [{
    `exclusive` leaves each element out of its own sum; `reverse` sums from
    the end (ONNX `CumSum`).

    ```mlir
    %c = anvil.cumsum %x {axis = 1 : i64, exclusive = false, reverse = false} : (tensor<1x8xi64>) -> tensor<1x8xi64>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, I64Attr:$axis, BoolAttr:$exclusive,
                       BoolAttr:$reverse);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_GatherElementsOp : Anvil_InferredOp<"gather_elements"> {
  let summary = "pick one element per index along an axis";
  let description = [{
    `result[i][j][k] = input[i][indices[i][j][k]][k]` for axis 1 (ONNX
    `GatherElements`); the result has the shape of `indices`.

    ```mlir
    %g = anvil.gather_elements %x, %idx {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_GatherNdOp : Anvil_InferredOp<"gather_nd"> {
  let summary = "gather slices at index tuples (ONNX GatherND)";
  let description = [{
    The last dim of `indices` (of size `m`) indexes dims
    `[batch_dims, batch_dims + m)` of `input`; the first `batch_dims` dims
    of `input` and `indices` are batch dims and must be equal. The result
    shape is `indices.shape[:-1] + input.shape[batch_dims + m:]`. Negative
    indices count from the end. A paged-KV step uses it to pick the rows
    that need logits.

    ```mlir
    %g = anvil.gather_nd %x, %idx {batch_dims = 0 : i64} : (tensor<4x5x8xf32>, tensor<3x2xi64>) -> tensor<3x8xf32>
    %h = anvil.gather_nd %x, %rows {batch_dims = 1 : i64} : (tensor<4x5x8xf32>, tensor<4x1xi64>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs Anvil_Tensor:$result);
}

def Anvil_TriluOp : Anvil_InferredOp<"trilu"> {
  let summary = "keep the upper or lower triangle of the last two dims";
  let description = [{
    ```mlir
    %t = anvil.trilu %x {k = 1 : i64, upper = true} : (tensor<8x8xf32>) -> tensor<8x8xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, I64Attr:$k, BoolAttr:$upper);
  let results = (outs Anvil_Tensor:$result);
}

def Anvil_CastOp : Anvil_InferredOp<"cast"> {
  let hasCanonicalizer = 1;
  let summary = "convert the element type";
  let description = [{
    The result element type is the target; the shape is the input's.

    ```mlir
    %c = anvil.cast %x : (tensor<4xi64>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_WhereOp : Anvil_InferredOp<"where"> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    ```mlir
    %w = anvil.where %c, %a, %b : (tensor<1x1x4x4xi1>, tensor<f32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins Anvil_BoolTensor:$condition, Anvil_Tensor:$true_value,
                       Anvil_Tensor:$false_value);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_ScatterNdOp : Anvil_InferredOp<"scatter_nd"> {
  let summary = "write slices of `updates` at index tuples (ONNX ScatterND)";
  let description = [{
    The last dim of `indices` indexes the leading dims of `input`; each index
    tuple selects a slice that is replaced by (or, with a reduction, combined
    with) the matching slice of `updates`. Exporters use it to build causal
    masks.

    ```mlir
    %r = anvil.scatter_nd %x, %idx, %upd {reduction = "none"} : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$indices,
                       Anvil_Tensor:$updates,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Anvil_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Anvil_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Anvil_InferredOp<mnemonic, traits> {
  let description = [{
    Elementwise with numpy broadcasting.

    ```mlir
    %r = anvil.}] # mnemonic # [{ %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_AddOp : Anvil_BinaryOp<"add", [Commutative]> { let hasCanonicalizer = 1; let summary = "lhs + rhs"; }
def Anvil_SubOp : Anvil_BinaryOp<"sub"> { let summary = "lhs - rhs"; }
def Anvil_MulOp : Anvil_BinaryOp<"mul", [Commutative]> { let hasCanonicalizer = 1; let summary = "lhs * rhs"; }
def Anvil_DivOp : Anvil_BinaryOp<"div"> {
  let hasCanonicalizer = 1;
  let summary = "lhs / rhs (integers: truncating)";
}
def Anvil_PowOp : Anvil_BinaryOp<"pow"> { let hasCanonicalizer = 1; let summary = "lhs ** rhs"; }
def Anvil_MaxOp : Anvil_BinaryOp<"max", [Commutative]> { let hasCanonicalizer = 1; let summary = "max(lhs, rhs)"; }
def Anvil_MinOp : Anvil_BinaryOp<"min", [Commutative]> { let hasCanonicalizer = 1; let summary = "min(lhs, rhs)"; }
def Anvil_ModOp : Anvil_BinaryOp<"mod"> {
  let summary = "remainder (sign of the divisor unless fmod)";
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
}
def Anvil_AndOp : Anvil_BinaryOp<"and", [Commutative]> { let hasCanonicalizer = 1; let summary = "and: logical on i1, bitwise on integers"; }
def Anvil_OrOp : Anvil_BinaryOp<"or", [Commutative]> { let hasCanonicalizer = 1; let summary = "or: logical on i1, bitwise on integers"; }
def Anvil_XorOp : Anvil_BinaryOp<"xor", [Commutative]> { let hasCanonicalizer = 1; let summary = "xor: logical on i1, bitwise on integers"; }

def Anvil_CompareOp : Anvil_InferredOp<"compare"> {
  let summary = "elementwise comparison to i1, with broadcasting";
  let description = [{
    ```mlir
    %c = anvil.compare %a, %b {predicate = #anvil<predicate lt>} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs,
                       Anvil_ComparePredicateAttr:$predicate);
  let results = (outs Anvil_BoolTensor:$result);
  let hasFolder = 1;
}

class Anvil_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Anvil_InferredOp<mnemonic, traits> {
  let description = [{
    Elementwise; the result has the input's type.

    ```mlir
    %r = anvil.}] # mnemonic # [{ %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_NegOp : Anvil_UnaryOp<"neg"> { let summary = "-x"; }
def Anvil_AbsOp : Anvil_UnaryOp<"abs"> { let summary = "|x|"; }
def Anvil_SignOp : Anvil_UnaryOp<"sign"> { let summary = "sign(x): -1, 0 or 1"; }
def Anvil_SqrtOp : Anvil_UnaryOp<"sqrt"> { let summary = "square root"; }
def Anvil_RsqrtOp : Anvil_UnaryOp<"rsqrt"> { let summary = "1 / sqrt(x)"; }
def Anvil_ExpOp : Anvil_UnaryOp<"exp"> { let summary = "e ** x"; }
def Anvil_LogOp : Anvil_UnaryOp<"log"> { let summary = "natural logarithm"; }
def Anvil_TanhOp : Anvil_UnaryOp<"tanh"> { let summary = "hyperbolic tangent"; }
def Anvil_SigmoidOp : Anvil_UnaryOp<"sigmoid"> { let summary = "1 / (1 + e ** -x)"; }
def Anvil_ErfOp : Anvil_UnaryOp<"erf"> { let summary = "error function"; }
def Anvil_SinOp : Anvil_UnaryOp<"sin"> { let summary = "sine"; }
def Anvil_CosOp : Anvil_UnaryOp<"cos"> { let summary = "cosine"; }
def Anvil_ReciprocalOp : Anvil_UnaryOp<"reciprocal"> { let summary = "1 / x"; }
def Anvil_FloorOp : Anvil_UnaryOp<"floor"> { let summary = "round down"; }
def Anvil_CeilOp : Anvil_UnaryOp<"ceil"> { let summary = "round up"; }
def Anvil_RoundOp : Anvil_UnaryOp<"round"> { let summary = "round half to even"; }
def Anvil_ReluOp : Anvil_UnaryOp<"relu"> { let summary = "max(x, 0)"; }
def Anvil_NotOp : Anvil_UnaryOp<"not"> { let summary = "logical not (of i1; bitwise not is xor with -1)"; }
def Anvil_SiluOp : Anvil_UnaryOp<"silu"> { let summary = "x * sigmoid(x) (swish)"; }

def Anvil_GeluOp : Anvil_UnaryOp<"gelu"> {
  let summary = "Gaussian error linear unit";
  let arguments = (ins Anvil_Tensor:$input,
                       DefaultValuedAttr<Anvil_GeluApproximationAttr,
                           "::anvil::GeluApproximation::none">:$approximation);
}

def Anvil_ClipOp : Anvil_UnaryOp<"clip"> {
  let summary = "clamp to [min, max]; an absent bound does not clamp";
  let arguments = (ins Anvil_Tensor:$input, OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
}

def Anvil_LeakyReluOp : Anvil_UnaryOp<"leaky_relu"> {
  let summary = "x if x >= 0 else alpha * x";
  let arguments = (ins Anvil_Tensor:$input, F32Attr:$alpha);
}

//===----------------------------------------------------------------------===//
// Neural-network operations
//===----------------------------------------------------------------------===//

def Anvil_MatmulOp : Anvil_InferredOp<"matmul"> {
  let hasCanonicalizer = 1;
  let summary = "batched matrix product with numpy broadcasting";
  let description = [{
    numpy `matmul` semantics (1-D operands are promoted and the unit dim
    dropped). With `transpose_rhs`, the last two dims of `rhs` are swapped
    first: weights stored `[out, in]` need no separate transpose.

    ```mlir
    %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<1x?x64xf32>, tensor<256x64xf32>) -> tensor<1x?x256xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_SoftmaxOp : Anvil_InferredOp<"softmax"> {
  let summary = "softmax along one axis";
  let description = [{
    ```mlir
    %p = anvil.softmax %x {axis = 3 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs Anvil_FloatTensor:$result);
  let hasFolder = 1;
}

def Anvil_ReduceOp : Anvil_InferredOp<"reduce"> {
  let summary = "reduce over axes";
  let description = [{
    An empty `axes` list reduces every dimension.

    ```mlir
    %m = anvil.reduce %x {axes = array<i64: 2, 3>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_ReduceKindAttr:$kind,
                       DenseI64ArrayAttr:$axes, BoolAttr:$keepdims);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

class Anvil_ArgReduceOp<string mnemonic, string which>
    : Anvil_InferredOp<mnemonic> {
  let summary = "index of the " # which # " element along an axis";
  let description = [{
    Ties give the first index, or the last with `select_last_index`.

    ```mlir
    %i = anvil.}] # mnemonic # [{ %x {axis = 1 : i64, keepdims = false} : (tensor<1x32000xf32>) -> tensor<1xi64>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, I64Attr:$axis, BoolAttr:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs TensorOf<[I64]>:$result);
  let hasFolder = 1;
}

def Anvil_ArgMaxOp : Anvil_ArgReduceOp<"argmax", "largest">;
def Anvil_ArgMinOp : Anvil_ArgReduceOp<"argmin", "smallest">;

def Anvil_LayerNormOp : Anvil_InferredOp<"layer_norm"> {
  let summary = "layer normalization over the dimensions from `axis` on";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias`.

    ```mlir
    %y = anvil.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$scale,
                       Optional<Anvil_FloatTensor>:$bias, I64Attr:$axis,
                       F32Attr:$epsilon);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_RmsNormOp : Anvil_InferredOp<"rms_norm"> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `x / sqrt(mean(x^2) + epsilon) * scale` (Zhang & Sennrich 2019). With
    `unit_offset` the scale is `1 + scale` (Gemma stores its weights as an
    offset from one).

    ```mlir
    %y = anvil.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<1x?x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
    %z = anvil.rms_norm %x, %g {epsilon = 1.0e-06 : f32, unit_offset = true} : (tensor<1x?x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$scale,
                       F32Attr:$epsilon,
                       DefaultValuedAttr<BoolAttr, "false">:$unit_offset);
  let results = (outs Anvil_FloatTensor:$result);
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
      "::mlir::Value":$scale, "::mlir::FloatAttr":$epsilon), [{
    build($_builder, $_state, result, input, scale, epsilon,
          ::mlir::BoolAttr());
  }]>];
}

def Anvil_RopeOp : Anvil_InferredOp<"rope"> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates pairs of the last dimension of `input` (`[..., seq, head_dim]`) by
    the angles whose cosines and sines are given (`[..., seq, head_dim/2]`,
    broadcast against the input's leading dims). Pairs are `(i, i + d/2)`
    (the "rotate half" layout of Llama) or, with `interleaved`, `(2i, 2i+1)`
    (Su et al. 2021). With `rotary_dim`, only the first `rotary_dim`
    elements of the last dimension are rotated (the pairs are taken within
    them, and the tables have `rotary_dim/2` columns); the rest pass
    through (partial rotation, as Phi and GPT-NeoX use).

    ```mlir
    %q2 = anvil.rope %q, %cos, %sin {interleaved = false} : (tensor<1x4x?x16xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x4x?x16xf32>
    %q3 = anvil.rope %q, %c4, %s4 {rotary_dim = 8 : i64} : (tensor<1x4x?x16xf32>, tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>) -> tensor<1x4x?x16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$cos,
                       Anvil_FloatTensor:$sin,
                       DefaultValuedAttr<BoolAttr, "false">:$interleaved,
                       OptionalAttr<I64Attr>:$rotary_dim);
  let results = (outs Anvil_FloatTensor:$result);
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
      "::mlir::Value":$cos, "::mlir::Value":$sin,
      "::mlir::BoolAttr":$interleaved), [{
    build($_builder, $_state, result, input, cos, sin, interleaved,
          ::mlir::IntegerAttr());
  }]>];
}

def Anvil_AttentionOp : Anvil_InferredOp<"attention"> {
  let hasCanonicalizer = 1;
  let summary = "scaled dot-product attention with grouped KV heads";
  let description = [{
    `softmax(q k^T * scale + mask) v` per head. `query` is
    `[batch, q_heads, q_len, head_dim]`, `key` and `value` are
    `[batch, kv_heads, kv_len, head_dim]` with `q_heads` a multiple of
    `kv_heads` (grouped-query attention, Ainslie et al. 2023). `mask`, when
    present, is added to the scores and broadcasts to
    `[batch, q_heads, q_len, kv_len]`. `causal` masks key positions after
    `kv_len - q_len + i` for query `i`.

    ```mlir
    %o = anvil.attention %q, %k, %v {causal = true, scale = 0.25 : f32} : (tensor<1x8x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x8x?x16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$query, Anvil_FloatTensor:$key,
                       Anvil_FloatTensor:$value,
                       Optional<Anvil_FloatTensor>:$mask, F32Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$causal);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_OnnxAttentionOp : Anvil_InferredOp<"onnx_attention",
    [AttrSizedOperandSegments]> {
  let summary = "ONNX Attention before its shapes are known (a composite)";
  let description = [{
    ONNX `Attention` (opset 23) as the importer leaves it when the shapes
    its decomposition needs are not static yet (they often become static
    only when shape arithmetic folds). `query` is `[batch, q_heads, q_len,
    head_dim]`; `key` and `value` are `[batch, kv_heads, kv_len, dim]` and
    already include the cached positions of `past_key`, whose sequence
    length (only its shape is read) aligns the causal mask: query `i` sees
    keys up to `past + i`. `mask` is additive. Without `scale` the scale is
    `1/sqrt(head_dim)`. `anvil-decompose-composites` turns it into
    `anvil.attention` plus the masks once the shapes are static; code
    generation does not take it.

    ```mlir
    %y = anvil.onnx_attention %q, %k, %v, %pk {is_causal = true, operand_segment_sizes = array<i32: 1, 1, 1, 0, 1>} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$query, Anvil_FloatTensor:$key,
                       Anvil_FloatTensor:$value,
                       Optional<Anvil_FloatTensor>:$mask,
                       Optional<Anvil_FloatTensor>:$past_key,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$is_causal);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_KvWriteOp : Anvil_InferredOp<"kv_write"> {
  let summary = "write new K or V rows into a paged KV pool at their slots";
  let description = [{
    `pool` is `[num_blocks, block_size, kv_heads, head_dim]`, `rows` is
    `[tokens, kv_heads, head_dim]`, `slot_mapping` is `[tokens]`: row `t`
    is written at block `slot / block_size`, offset `slot % block_size`,
    and a negative slot (a padding token) writes nothing. The result is
    the updated pool (value semantics; bufferization makes the write in
    place).

    ```mlir
    %p2 = anvil.kv_write %pool, %k, %slots : (tensor<64x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$pool, Anvil_FloatTensor:$rows,
                       Anvil_IndexTensor:$slot_mapping);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_PagedAttentionOp : Anvil_InferredOp<"paged_attention"> {
  let summary = "attention over a flattened token batch with paged K/V";
  let description = [{
    One step of many sequences: `query` is `[tokens, q_heads, head_dim]`;
    `key_pool` and `value_pool` are `[num_blocks, block_size, kv_heads,
    head_dim]` (`q_heads` a multiple of `kv_heads`); `block_tables` is
    `[sequences, max_blocks]` (the pool blocks of each sequence, in
    order); `context_lens` is `[sequences]` (keys each sequence has,
    including this step's); `positions` and `seq_of_token` are `[tokens]`
    (a token's position in its sequence, and which sequence it belongs to).
    Token `t` attends causally to keys `0..positions[t]` of sequence
    `seq_of_token[t]`, with scores scaled by `scale`; `window` keeps only
    the last `window` keys, `softcap` applies `softcap * tanh(s / softcap)`
    to the scores (Gemma 2), and `sinks` (`[q_heads]`) adds one learned
    logit per head to the softmax's denominator (attention sinks). The
    result is `[tokens, q_heads, head_dim of value_pool]`.

    ```mlir
    %o = anvil.paged_attention %q, %kp, %vp, %tables, %lens, %pos, %seq {scale = 2.500000e-01 : f32, window = 4096 : i64}
        : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$query, Anvil_FloatTensor:$key_pool,
                       Anvil_FloatTensor:$value_pool,
                       Anvil_IndexTensor:$block_tables,
                       Anvil_IndexTensor:$context_lens,
                       Anvil_IndexTensor:$positions,
                       Anvil_IndexTensor:$seq_of_token,
                       Optional<Anvil_FloatTensor>:$sinks,
                       F32Attr:$scale, OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F32Attr>:$softcap);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_ConvOp : Anvil_InferredOp<"conv"> {
  let summary = "N-d convolution, channels first";
  let description = [{
    `input` is `[N, C, spatial...]`, `weight` `[M, C/group, kernel...]`.
    `pads` holds the begin pads of every spatial dim, then the end pads.

    ```mlir
    %y = anvil.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<?x16x32x32xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$weight,
                       Optional<Anvil_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_PoolOp : Anvil_InferredOp<"pool"> {
  let summary = "max or average pooling over the spatial dims";
  let description = [{
    `dilations`, when present, spaces the window's taps (default 1).

    ```mlir
    %y = anvil.pool %x {ceil_mode = false, count_include_pad = false, kernel = array<i64: 3, 3>, kind = #anvil<pool max>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x16x32x32xf32>) -> tensor<?x16x16x16xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_PoolKindAttr:$kind,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, BoolAttr:$ceil_mode,
                       BoolAttr:$count_include_pad,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations);
  let results = (outs Anvil_Tensor:$result);
}

#endif // ANVIL_OPS_TD
