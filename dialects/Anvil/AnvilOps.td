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
  code verifyDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return ::anvil::verifyInferredResultTypes(getOperation());
    }
  }];
  let extraClassDefinition = verifyDefinition;
}

// An op whose result elements are each a function of the matching
// (broadcast) element of each data operand. Its math is declared once, as
// `payload`: the body of `Value buildScalar(ScalarBuilder &s)`, which builds
// one element with arith/math ops (dialects/Anvil/ElementwisePayload.h).
// The lowering builds it into kernel.elementwise bodies, the folder
// evaluates it on constants (unless `customFolder`), and C-family emitters
// print it: adding an elementwise op is its def here plus an importer line.
//   inference    body of inferResultTypes(resultTypes); "" = hand-written
//   rhsIdentity  a right operand value that makes the op the identity
//                (x + 0), folded to x; std::nullopt if none
class Anvil_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : Anvil_InferredOp<mnemonic, !listconcat(traits,
          [DeclareOpInterfaceMethods<Anvil_ElementwiseOpInterface>])> {
  code payload = ?;
  code inference = "";
  bit customFolder = 0;
  string rhsIdentity = "std::nullopt";
  let hasFolder = 1;
  let extraClassDefinition = verifyDefinition # [{
    ::mlir::Value $cppClass::buildScalar(::anvil::ScalarBuilder &s) {
      }] # payload # [{
    }
  }] # !if(!empty(inference), "", [{
    ::mlir::LogicalResult $cppClass::inferResultTypes(
        ::llvm::SmallVectorImpl<::mlir::Type> &resultTypes) {
      }] # inference # [{
    }
  }]) # !if(customFolder, "", [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return ::anvil::foldElementwise(getOperation(), adaptor.getOperands(),
                                      }] # rhsIdentity # [{);
    }
  }]);
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

def Anvil_ExpandOp : Anvil_ElementwiseOp<"expand"> {
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
  // The identity with broadcasting; `shape` is not read per element.
  let payload = [{ return s.arg(0); }];
  let customFolder = 1;
  let extraClassDeclaration = [{
    /// Hides ElementwiseOpInterface's default (every operand).
    unsigned getNumDataOperands() { return 1; }
  }];
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
  let results = (outs Anvil_Tensor:$result);  let hasFolder = 1;
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
  let hasFolder = 1;
}

def Anvil_CastOp : Anvil_ElementwiseOp<"cast"> {
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
  let payload = [{
    ::mlir::Type to = getType().cast<::mlir::ShapedType>().getElementType();
    return convertScalar(s.b, s.loc, s.arg(0), signlessType(to),
                         s.isUnsigned() && !s.type().isInteger(1),
                         to.isUnsignedInteger());
  }];
  let customFolder = 1; // the identity cast folds to its input
}

def Anvil_WhereOp : Anvil_ElementwiseOp<"where"> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    ```mlir
    %w = anvil.where %c, %a, %b : (tensor<1x1x4x4xi1>, tensor<f32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins Anvil_BoolTensor:$condition, Anvil_Tensor:$true_value,
                       Anvil_Tensor:$false_value);
  let results = (outs Anvil_Tensor:$result);
  let payload = [{
    return s.b.create<arith::SelectOp>(s.loc, s.arg(0), s.arg(1), s.arg(2));
  }];
  let customFolder = 1; // a constant condition picks one operand
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
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Anvil_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Anvil_ElementwiseOp<mnemonic, traits> {
  let description = [{
    Elementwise with numpy broadcasting.

    ```mlir
    %r = anvil.}] # mnemonic # [{ %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs);
  let results = (outs Anvil_Tensor:$result);
  let inference = [{
    return ::anvil::inferElementwiseBinary(getOperation(), resultTypes);
  }];
}

def Anvil_AddOp : Anvil_BinaryOp<"add", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "lhs + rhs";
  let payload = [{ return s.binary<arith::AddFOp, arith::AddIOp>(); }];
  let rhsIdentity = "0.0";
}
def Anvil_SubOp : Anvil_BinaryOp<"sub"> {
  let summary = "lhs - rhs";
  let payload = [{ return s.binary<arith::SubFOp, arith::SubIOp>(); }];
  let rhsIdentity = "0.0";
}
def Anvil_MulOp : Anvil_BinaryOp<"mul", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "lhs * rhs";
  let payload = [{ return s.binary<arith::MulFOp, arith::MulIOp>(); }];
  let rhsIdentity = "1.0";
}
def Anvil_DivOp : Anvil_BinaryOp<"div"> {
  let hasCanonicalizer = 1;
  let summary = "lhs / rhs (integers: truncating; x / 0 is 0)";
  let payload = [{
    return s.binarySigned<arith::DivFOp, arith::DivSIOp, arith::DivUIOp>();
  }];
  let rhsIdentity = "1.0";
}
def Anvil_PowOp : Anvil_BinaryOp<"pow"> {
  let hasCanonicalizer = 1;
  let summary = "lhs ** rhs";
  let payload = [{
    bool unsignedExponent = s.isUnsigned(1) && !s.arg(1).getType().isInteger(1);
    if (s.isFloat()) {
      Value exponent =
          convertScalar(s.b, s.loc, s.arg(1), s.type(), unsignedExponent);
      return s.b.create<math::PowFOp>(s.loc, s.arg(0), exponent);
    }
    // Integer bases with integer exponents: exact, wrapping (as numpy and
    // ONNX's reference), by squaring (buildIntegerPow).
    if (!s.arg(1).getType().isa<::mlir::FloatType>())
      return ::anvil::buildIntegerPow(s, unsignedExponent);
    // Integer bases with float exponents: computed in double and
    // truncated, as ONNX Runtime does.
    ::mlir::Type f64 = s.b.getF64Type();
    Value base = convertScalar(s.b, s.loc, s.arg(0), f64, s.isUnsigned());
    Value exponent = convertScalar(s.b, s.loc, s.arg(1), f64, unsignedExponent);
    Value result = s.b.create<math::PowFOp>(s.loc, base, exponent);
    return convertScalar(s.b, s.loc, result, s.type(), false, s.isUnsigned());
  }];
  let rhsIdentity = "1.0";
}
def Anvil_MaxOp : Anvil_BinaryOp<"max", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "max(lhs, rhs); NaN if either is NaN";
  let payload = [{
    return s.binarySigned<arith::MaxFOp, arith::MaxSIOp, arith::MaxUIOp>();
  }];
}
def Anvil_MinOp : Anvil_BinaryOp<"min", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "min(lhs, rhs); NaN if either is NaN";
  let payload = [{
    return s.binarySigned<arith::MinFOp, arith::MinSIOp, arith::MinUIOp>();
  }];
}
def Anvil_ModOp : Anvil_BinaryOp<"mod"> {
  let summary = "remainder (sign of the divisor unless fmod)";
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
  let payload = [{
    if (s.isFloat()) {
      Value rem = s.b.create<arith::RemFOp>(s.loc, s.arg(0), s.arg(1));
      if (getFmod())
        return rem;
      // Python-style: a nonzero remainder takes the divisor's sign.
      Value zero = s.constant(0);
      Value remNeg = s.b.create<arith::CmpFOp>(
          s.loc, arith::CmpFPredicate::OLT, rem, zero);
      Value divNeg = s.b.create<arith::CmpFOp>(
          s.loc, arith::CmpFPredicate::OLT, s.arg(1), zero);
      Value nonzero = s.b.create<arith::CmpFOp>(
          s.loc, arith::CmpFPredicate::UNE, rem, zero);
      Value adjust = s.b.create<arith::AndIOp>(
          s.loc, s.b.create<arith::XOrIOp>(s.loc, remNeg, divNeg), nonzero);
      return s.b.create<arith::SelectOp>(
          s.loc, adjust, s.b.create<arith::AddFOp>(s.loc, rem, s.arg(1)), rem);
    }
    if (s.isUnsigned())
      return s.b.create<arith::RemUIOp>(s.loc, s.arg(0), s.arg(1));
    Value rem = s.b.create<arith::RemSIOp>(s.loc, s.arg(0), s.arg(1));
    if (getFmod())
      return rem;
    Value zero = s.constant(0);
    Value remNeg = s.b.create<arith::CmpIOp>(s.loc, arith::CmpIPredicate::slt,
                                             rem, zero);
    Value divNeg = s.b.create<arith::CmpIOp>(s.loc, arith::CmpIPredicate::slt,
                                             s.arg(1), zero);
    Value nonzero = s.b.create<arith::CmpIOp>(s.loc, arith::CmpIPredicate::ne,
                                              rem, zero);
    Value adjust = s.b.create<arith::AndIOp>(
        s.loc, s.b.create<arith::XOrIOp>(s.loc, remNeg, divNeg), nonzero);
    return s.b.create<arith::SelectOp>(
        s.loc, adjust, s.b.create<arith::AddIOp>(s.loc, rem, s.arg(1)), rem);
  }];
}
def Anvil_AndOp : Anvil_BinaryOp<"and", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "and: logical on i1, bitwise on integers";
  let payload = [{ return s.isFloat() ? s.fail() : s.b.create<arith::AndIOp>(s.loc, s.arg(0), s.arg(1)); }];
}
def Anvil_OrOp : Anvil_BinaryOp<"or", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "or: logical on i1, bitwise on integers";
  let payload = [{ return s.isFloat() ? s.fail() : s.b.create<arith::OrIOp>(s.loc, s.arg(0), s.arg(1)); }];
}
def Anvil_XorOp : Anvil_BinaryOp<"xor", [Commutative]> {
  let hasCanonicalizer = 1;
  let summary = "xor: logical on i1, bitwise on integers";
  let payload = [{ return s.isFloat() ? s.fail() : s.b.create<arith::XOrIOp>(s.loc, s.arg(0), s.arg(1)); }];
}
def Anvil_BitShiftOp : Anvil_BinaryOp<"bit_shift"> {
  let summary = "shift unsigned integers left or right (ONNX BitShift)";
  let description = [{
    `lhs << rhs` or `lhs >> rhs` (logical) per element, with numpy
    broadcasting; unsigned integers only. A shift by the bit width or more
    gives 0.

    ```mlir
    %r = anvil.bit_shift %a, %b {left = true} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs, BoolAttr:$left);
  let payload = [{
    if (s.isFloat() || !getType().cast<::mlir::ShapedType>()
                            .getElementType().isUnsignedInteger())
      return s.fail();
    Value shifted = getLeft()
        ? s.b.create<arith::ShLIOp>(s.loc, s.arg(0), s.arg(1)).getResult()
        : s.b.create<arith::ShRUIOp>(s.loc, s.arg(0), s.arg(1)).getResult();
    // arith leaves shifts by >= the width undefined; ONNX gives 0.
    unsigned width = s.type().getIntOrFloatBitWidth();
    Value inRange = s.b.create<arith::CmpIOp>(
        s.loc, arith::CmpIPredicate::ult, s.arg(1), s.constant(width));
    return s.b.create<arith::SelectOp>(s.loc, inRange, shifted, s.constant(0));
  }];
  let rhsIdentity = "0.0";
}

def Anvil_CompareOp : Anvil_ElementwiseOp<"compare"> {
  let summary = "elementwise comparison to i1, with broadcasting";
  let description = [{
    ```mlir
    %c = anvil.compare %a, %b {predicate = #anvil<predicate lt>} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs,
                       Anvil_ComparePredicateAttr:$predicate);
  let results = (outs Anvil_BoolTensor:$result);
  let payload = [{ return ::anvil::buildComparison(s, getPredicate()); }];
}

class Anvil_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Anvil_ElementwiseOp<mnemonic, traits> {
  let description = [{
    Elementwise; the result has the input's type.

    ```mlir
    %r = anvil.}] # mnemonic # [{ %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input);
  let results = (outs Anvil_Tensor:$result);
  let inference = [{
    return ::anvil::inferElementwiseUnary(getOperation(), resultTypes);
  }];
}

// A float-only unary op that is one `math` op.
class Anvil_MathUnaryOp<string mnemonic, string mathOp>
    : Anvil_UnaryOp<mnemonic> {
  let payload = "return s.floatUnary<math::" # mathOp # ">();";
}

def Anvil_NegOp : Anvil_UnaryOp<"neg"> {
  let summary = "-x";
  let payload = [{
    if (s.isFloat())
      return s.b.create<arith::NegFOp>(s.loc, s.arg(0));
    return s.b.create<arith::SubIOp>(s.loc, s.constant(0), s.arg(0));
  }];
}
def Anvil_AbsOp : Anvil_UnaryOp<"abs"> {
  let summary = "|x|";
  let payload = [{
    if (s.isFloat())
      return s.b.create<math::AbsFOp>(s.loc, s.arg(0));
    if (s.isUnsigned())
      return s.arg(0);
    return s.b.create<math::AbsIOp>(s.loc, s.arg(0));
  }];
}
def Anvil_SignOp : Anvil_UnaryOp<"sign"> {
  let summary = "sign(x): -1, 0 or 1 (NaN stays NaN)";
  let payload = [{
    Value x = s.arg(0), zero = s.constant(0), one = s.constant(1);
    if (s.isUnsigned()) { // 0 or 1
      Value pos = s.b.create<arith::CmpIOp>(s.loc, arith::CmpIPredicate::ne,
                                            x, zero);
      return s.b.create<arith::SelectOp>(s.loc, pos, one, zero);
    }
    Value minusOne = s.constant(-1);
    if (!s.isFloat()) {
      Value pos = s.b.create<arith::CmpIOp>(s.loc, arith::CmpIPredicate::sgt,
                                            x, zero);
      Value neg = s.b.create<arith::CmpIOp>(s.loc, arith::CmpIPredicate::slt,
                                            x, zero);
      return s.b.create<arith::SelectOp>(
          s.loc, pos, one,
          s.b.create<arith::SelectOp>(s.loc, neg, minusOne, zero));
    }
    Value pos = s.b.create<arith::CmpFOp>(s.loc, arith::CmpFPredicate::OGT,
                                          x, zero);
    Value neg = s.b.create<arith::CmpFOp>(s.loc, arith::CmpFPredicate::OLT,
                                          x, zero);
    // NaN: neither comparison holds, and the unordered check keeps x.
    Value isNaN = s.b.create<arith::CmpFOp>(s.loc, arith::CmpFPredicate::UNO,
                                            x, x);
    Value rest = s.b.create<arith::SelectOp>(
        s.loc, neg, minusOne, s.b.create<arith::SelectOp>(s.loc, isNaN, x, zero));
    return s.b.create<arith::SelectOp>(s.loc, pos, one, rest);
  }];
}
def Anvil_SqrtOp : Anvil_MathUnaryOp<"sqrt", "SqrtOp"> { let summary = "square root"; }
def Anvil_RsqrtOp : Anvil_MathUnaryOp<"rsqrt", "RsqrtOp"> { let summary = "1 / sqrt(x)"; }
def Anvil_ExpOp : Anvil_MathUnaryOp<"exp", "ExpOp"> { let summary = "e ** x"; }
def Anvil_LogOp : Anvil_MathUnaryOp<"log", "LogOp"> { let summary = "natural logarithm"; }
def Anvil_TanhOp : Anvil_MathUnaryOp<"tanh", "TanhOp"> { let summary = "hyperbolic tangent"; }
def Anvil_ErfOp : Anvil_MathUnaryOp<"erf", "ErfOp"> { let summary = "error function"; }
def Anvil_SinOp : Anvil_MathUnaryOp<"sin", "SinOp"> { let summary = "sine"; }
def Anvil_CosOp : Anvil_MathUnaryOp<"cos", "CosOp"> { let summary = "cosine"; }
def Anvil_AtanOp : Anvil_MathUnaryOp<"atan", "AtanOp"> { let summary = "arctangent, in radians"; }
// Inverse trigonometric and hyperbolic functions. MLIR 16's
// math dialect has none of them but atan2 and log1p, so each payload is
// the textbook identity written to stay accurate near 0 and +-1; a huge
// argument takes log(2|x|): above 1e8 (where sqrt(1 + x*x) rounds to |x|),
// above 128 for 16-bit floats (whose x*x overflows from 256 on, and where
// 1e8 is not representable).
def Anvil_AsinOp : Anvil_UnaryOp<"asin"> {
  let summary = "arcsine, in radians: atan2(x, sqrt((1 - x)(1 + x)))";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    Value x = s.arg(0), one = s.constant(1);
    Value r = s.b.create<math::SqrtOp>(s.loc, s.b.create<arith::MulFOp>(s.loc,
        s.b.create<arith::SubFOp>(s.loc, one, x),
        s.b.create<arith::AddFOp>(s.loc, one, x)));
    return s.b.create<math::Atan2Op>(s.loc, x, r);
  }];
}
def Anvil_AcosOp : Anvil_UnaryOp<"acos"> {
  let summary = "arccosine, in radians: atan2(sqrt((1 - x)(1 + x)), x)";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    Value x = s.arg(0), one = s.constant(1);
    Value r = s.b.create<math::SqrtOp>(s.loc, s.b.create<arith::MulFOp>(s.loc,
        s.b.create<arith::SubFOp>(s.loc, one, x),
        s.b.create<arith::AddFOp>(s.loc, one, x)));
    return s.b.create<math::Atan2Op>(s.loc, r, x);
  }];
}
def Anvil_AsinhOp : Anvil_UnaryOp<"asinh"> {
  let summary = "inverse hyperbolic sine: sign(x) log1p(|x| + x^2 / (1 + sqrt(1 + x^2)))";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    ::mlir::OpBuilder &b = s.b;
    Value x = s.arg(0), one = s.constant(1);
    Value a = b.create<math::AbsFOp>(s.loc, x);
    Value a2 = b.create<arith::MulFOp>(s.loc, a, a);
    Value root = b.create<math::SqrtOp>(s.loc,
        b.create<arith::AddFOp>(s.loc, one, a2));
    Value small = b.create<math::Log1pOp>(s.loc, b.create<arith::AddFOp>(
        s.loc, a, b.create<arith::DivFOp>(s.loc, a2,
                   b.create<arith::AddFOp>(s.loc, one, root))));
    Value big = b.create<arith::AddFOp>(s.loc, b.create<math::LogOp>(s.loc, a),
                                        s.constant(0.69314718055994530942));
    Value isBig = b.create<arith::CmpFOp>(s.loc, arith::CmpFPredicate::OGT, a,
                                          s.constant(
        s.type().getIntOrFloatBitWidth() <= 16 ? 128 : 1e8));
    Value y = b.create<arith::SelectOp>(s.loc, isBig, big, small);
    Value negative = b.create<arith::CmpFOp>(s.loc, arith::CmpFPredicate::OLT,
                                             x, s.constant(0));
    return b.create<arith::SelectOp>(s.loc, negative,
                                     b.create<arith::NegFOp>(s.loc, y), y);
  }];
}
def Anvil_AcoshOp : Anvil_UnaryOp<"acosh"> {
  let summary = "inverse hyperbolic cosine: log1p((x - 1) + sqrt(x - 1) sqrt(x + 1))";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    ::mlir::OpBuilder &b = s.b;
    Value x = s.arg(0), one = s.constant(1);
    Value xm1 = b.create<arith::SubFOp>(s.loc, x, one);
    // sqrt(x - 1) sqrt(x + 1): NaN for every x < 1, as acosh is.
    Value root = b.create<arith::MulFOp>(s.loc,
        b.create<math::SqrtOp>(s.loc, xm1),
        b.create<math::SqrtOp>(s.loc, b.create<arith::AddFOp>(s.loc, x, one)));
    Value small = b.create<math::Log1pOp>(s.loc,
        b.create<arith::AddFOp>(s.loc, xm1, root));
    Value big = b.create<arith::AddFOp>(s.loc, b.create<math::LogOp>(s.loc, x),
                                        s.constant(0.69314718055994530942));
    Value isBig = b.create<arith::CmpFOp>(s.loc, arith::CmpFPredicate::OGT, x,
                                          s.constant(
        s.type().getIntOrFloatBitWidth() <= 16 ? 128 : 1e8));
    return b.create<arith::SelectOp>(s.loc, isBig, big, small);
  }];
}
def Anvil_AtanhOp : Anvil_UnaryOp<"atanh"> {
  let summary = "inverse hyperbolic tangent: log1p(2x / (1 - x)) / 2";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    ::mlir::OpBuilder &b = s.b;
    Value x = s.arg(0);
    Value ratio = b.create<arith::DivFOp>(s.loc,
        b.create<arith::AddFOp>(s.loc, x, x),
        b.create<arith::SubFOp>(s.loc, s.constant(1), x));
    return b.create<arith::MulFOp>(s.loc,
        b.create<math::Log1pOp>(s.loc, ratio), s.constant(0.5));
  }];
}
def Anvil_FloorOp : Anvil_MathUnaryOp<"floor", "FloorOp"> { let summary = "round down"; }
def Anvil_CeilOp : Anvil_MathUnaryOp<"ceil", "CeilOp"> { let summary = "round up"; }
def Anvil_RoundOp : Anvil_MathUnaryOp<"round", "RoundEvenOp"> { let summary = "round half to even"; }
def Anvil_SigmoidOp : Anvil_UnaryOp<"sigmoid"> {
  let summary = "1 / (1 + e ** -x)";
  let payload = [{ return s.isFloat() ? s.sigmoid(s.arg(0)) : s.fail(); }];
}
def Anvil_ReciprocalOp : Anvil_UnaryOp<"reciprocal"> {
  let summary = "1 / x";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    return s.b.create<arith::DivFOp>(s.loc, s.constant(1), s.arg(0));
  }];
}
def Anvil_ReluOp : Anvil_UnaryOp<"relu"> {
  let summary = "max(x, 0)";
  let payload = [{
    if (s.isFloat())
      return s.b.create<arith::MaxFOp>(s.loc, s.arg(0), s.constant(0));
    return s.b.create<arith::MaxSIOp>(s.loc, s.arg(0), s.constant(0));
  }];
}
def Anvil_NotOp : Anvil_UnaryOp<"not"> {
  let summary = "logical not (of i1; bitwise not is xor with -1)";
  let payload = [{
    return s.b.create<arith::XOrIOp>(s.loc, s.arg(0), s.constant(1));
  }];
}
def Anvil_SiluOp : Anvil_UnaryOp<"silu"> {
  let summary = "x * sigmoid(x) (swish)";
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    return s.b.create<arith::MulFOp>(s.loc, s.arg(0), s.sigmoid(s.arg(0)));
  }];
}

def Anvil_GeluOp : Anvil_UnaryOp<"gelu"> {
  let summary = "Gaussian error linear unit";
  let arguments = (ins Anvil_Tensor:$input,
                       DefaultValuedAttr<Anvil_GeluApproximationAttr,
                           "::anvil::GeluApproximation::none">:$approximation);
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    Value x = s.arg(0), inner;
    if (getApproximation() == GeluApproximation::tanh) {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      Value x3 = s.b.create<arith::MulFOp>(
          s.loc, x, s.b.create<arith::MulFOp>(s.loc, x, x));
      Value poly = s.b.create<arith::AddFOp>(
          s.loc, x, s.b.create<arith::MulFOp>(s.loc, s.constant(0.044715), x3));
      inner = s.b.create<math::TanhOp>(
          s.loc, s.b.create<arith::MulFOp>(
                     s.loc, s.constant(std::sqrt(2.0 / M_PI)), poly));
    } else { // 0.5 x (1 + erf(x / sqrt(2)))
      inner = s.b.create<math::ErfOp>(
          s.loc, s.b.create<arith::MulFOp>(s.loc, x, s.constant(M_SQRT1_2)));
    }
    Value scaled = s.b.create<arith::MulFOp>(s.loc, s.constant(0.5), x);
    return s.b.create<arith::MulFOp>(
        s.loc, scaled, s.b.create<arith::AddFOp>(s.loc, s.constant(1), inner));
  }];
}

def Anvil_ClipOp : Anvil_UnaryOp<"clip"> {
  let summary = "clamp to [min, max]; an absent bound does not clamp";
  let arguments = (ins Anvil_Tensor:$input, OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
  let payload = [{
    Value v = s.arg(0);
    auto bound = [&](std::optional<::llvm::APFloat> limit, bool isMin) {
      if (!limit)
        return;
      Value c = s.constant(limit->convertToDouble());
      if (s.isFloat())
        v = isMin ? s.b.create<arith::MaxFOp>(s.loc, v, c).getResult()
                  : s.b.create<arith::MinFOp>(s.loc, v, c).getResult();
      else if (s.isUnsigned())
        v = isMin ? s.b.create<arith::MaxUIOp>(s.loc, v, c).getResult()
                  : s.b.create<arith::MinUIOp>(s.loc, v, c).getResult();
      else
        v = isMin ? s.b.create<arith::MaxSIOp>(s.loc, v, c).getResult()
                  : s.b.create<arith::MinSIOp>(s.loc, v, c).getResult();
    };
    bound(getMin(), true);
    bound(getMax(), false);
    return v;
  }];
}

def Anvil_LeakyReluOp : Anvil_UnaryOp<"leaky_relu"> {
  let summary = "x if x >= 0 else alpha * x";
  let arguments = (ins Anvil_Tensor:$input, F32Attr:$alpha);
  let payload = [{
    if (!s.isFloat())
      return s.fail();
    Value alpha = s.constant(getAlpha().convertToDouble());
    Value negative = s.b.create<arith::CmpFOp>(
        s.loc, arith::CmpFPredicate::OLT, s.arg(0), s.constant(0));
    return s.b.create<arith::SelectOp>(
        s.loc, negative, s.b.create<arith::MulFOp>(s.loc, alpha, s.arg(0)),
        s.arg(0));
  }];
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

    The operands may have different element types; the result's element
    type is stated by the op's type, and the accumulator follows from the
    operands:

    | operands | result | accumulator |
    |---|---|---|
    | floats (f16, bf16, f32, f64, mixed) | any float | f64 if an operand or the result is f64, else f32 |
    | integers of 8 or 16 bits (signed or unsigned, mixed) | `i32` | `i32` |
    | the same integer type of 32 or 64 bits | that type | that type (wrapping) |

    Integer and float operands do not mix (dequantize the integer one
    first) and `i1` is refused. Products of 8-bit integers are exact in the
    `i32` accumulator for K below 2^17.

    ```mlir
    %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<1x?x64xf32>, tensor<256x64xf32>) -> tensor<1x?x256xf32>
    %z = anvil.matmul %a, %b : (tensor<4x64xui8>, tensor<64x16xi8>) -> tensor<4x16xi32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$lhs, Anvil_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The type products are summed in (the table above).
    ::mlir::Type getAccumulatorType();
  }];
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

// A KV pool's storage: a float type, or int8 with an f32 scale per
// (slot, KV head) beside it (`--kv-dtype=int8`).
def Anvil_KvPoolTensor : TensorOf<[AnyFloat, I8]>;
def Anvil_KvScalesTensor : TensorOf<[F32]>;

def Anvil_KvWriteOp : Anvil_InferredOp<"kv_write",
    [AttrSizedOperandSegments]> {
  let summary = "write new K or V rows into a paged KV pool at their slots";
  let description = [{
    `pool` is `[num_blocks, block_size, kv_heads, head_dim]`, `rows` is
    `[tokens, kv_heads, head_dim]`, `slot_mapping` is `[tokens]`: row `t`
    is written at block `slot / block_size`, offset `slot % block_size`,
    and a negative slot (a padding token) writes nothing. The result is
    the updated pool (value semantics; bufferization makes the write in
    place). A float pool of another type than the rows gets the rows
    rounded to it (nearest even).

    An `i8` pool takes `scales`, `[num_blocks, block_size, kv_heads]` f32,
    and the op then has a second result, the updated scales: each written
    (slot, head) row of `head_dim` values `x` is stored as
    `q = clamp(round_half_even(x / s), -127, 127)` with
    `s = max|x| / 127` (`s = 0` and `q = 0` for an all-zero row), and
    reads back as `q * s`. Readers take the second result, never the
    scales operand, so the write is ordered before them by dataflow.

    With `rope(%cos, %sin)` each row is first rotated as `anvil.rope`
    rotates it (RoPE, Su et al. 2021), with the tables' row of its token:
    the tables are `[tokens, rotary/2]`, `rope_interleaved` picks the pairs
    and `rope_dim` the rotated part (default all of `head_dim`).
    `anvil-fuse-rope` folds a rope of the new keys into their write.

    ```mlir
    %p2 = anvil.kv_write %pool, %k, %slots : (tensor<64x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf32>
    %q2, %s2 = anvil.kv_write %qpool, %k, %slots, %scales : (tensor<64x16x2x16xi8>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<64x16x2xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
    %p3 = anvil.kv_write %pool, %k, %slots rope(%cos, %sin) : (tensor<64x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<64x16x2x16xf32>
    ```
  }];
  let arguments = (ins Anvil_KvPoolTensor:$pool, Anvil_FloatTensor:$rows,
                       Anvil_IndexTensor:$slot_mapping,
                       Optional<Anvil_KvScalesTensor>:$scales,
                       Optional<Anvil_FloatTensor>:$rope_cos,
                       Optional<Anvil_FloatTensor>:$rope_sin,
                       DefaultValuedAttr<BoolAttr, "false">:$rope_interleaved,
                       OptionalAttr<I64Attr>:$rope_dim);
  let results = (outs Anvil_KvPoolTensor:$result,
                      Optional<Anvil_KvScalesTensor>:$new_scales);
  let assemblyFormat = [{
    $pool `,` $rows `,` $slot_mapping (`,` $scales^)?
    (`rope` `(` $rope_cos^ `,` $rope_sin `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def Anvil_PagedAttentionOp : Anvil_InferredOp<"paged_attention",
    [AttrSizedOperandSegments]> {
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

    `i8` pools (an int8 KV cache) take `scales(%key_scales, %value_scales)`,
    each `[num_blocks, block_size, kv_heads]` f32 (the second results of
    the `anvil.kv_write`s that wrote the pools): a key or value reads as
    its int8 value times its (slot, head) scale.

    With `rope(%cos, %sin)` each query row is rotated first, as
    `anvil.rope` rotates it, with its token's row of the `[tokens,
    rotary/2]` tables (`rope_interleaved`, `rope_dim` as in `anvil.rope`'s
    `interleaved` and `rotary_dim`): the rotation is the attention's
    prologue (`anvil-fuse-rope`).

    ```mlir
    %o = anvil.paged_attention %q, %kp, %vp, %tables, %lens, %pos, %seq {scale = 2.500000e-01 : f32, window = 4096 : i64}
        : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
    %o8 = anvil.paged_attention %q, %kq, %vq, %tables, %lens, %pos, %seq scales(%ks, %vs) {scale = 2.500000e-01 : f32}
        : (tensor<?x8x16xf32>, tensor<64x16x2x16xi8>, tensor<64x16x2x16xi8>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>, tensor<64x16x2xf32>, tensor<64x16x2xf32>) -> tensor<?x8x16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$query, Anvil_KvPoolTensor:$key_pool,
                       Anvil_KvPoolTensor:$value_pool,
                       Anvil_IndexTensor:$block_tables,
                       Anvil_IndexTensor:$context_lens,
                       Anvil_IndexTensor:$positions,
                       Anvil_IndexTensor:$seq_of_token,
                       Optional<Anvil_FloatTensor>:$sinks,
                       Optional<Anvil_KvScalesTensor>:$key_scales,
                       Optional<Anvil_KvScalesTensor>:$value_scales,
                       Optional<Anvil_FloatTensor>:$rope_cos,
                       Optional<Anvil_FloatTensor>:$rope_sin,
                       F32Attr:$scale, OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F32Attr>:$softcap,
                       DefaultValuedAttr<BoolAttr, "false">:$rope_interleaved,
                       OptionalAttr<I64Attr>:$rope_dim);
  let results = (outs Anvil_FloatTensor:$result);
  // The operands as before, plus the int8 pools' scales and the query's
  // rotary tables by keyword.
  let assemblyFormat = [{
    $query `,` $key_pool `,` $value_pool `,` $block_tables `,` $context_lens
    `,` $positions `,` $seq_of_token (`,` $sinks^)?
    (`scales` `(` $key_scales^ `,` $value_scales `)`)?
    (`rope` `(` $rope_cos^ `,` $rope_sin `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
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

//===----------------------------------------------------------------------===//
// Quantization: plain integer storage plus explicit ops
//===----------------------------------------------------------------------===//

def Anvil_IntegerTensor : TensorOf<[AnyInteger]>;

def Anvil_DequantizeOp : Anvil_InferredOp<"dequantize"> {
  let summary = "integers to floats: (q - zero_point) * scale";
  let description = [{
    ONNX `DequantizeLinear` (opset 21) semantics. The granularity follows
    from `scale`'s shape:

    - per tensor: `scale` has rank 0;
    - per axis: `scale` is 1-D with the size of dim `axis` of the values;
    - blocked (`block_size` > 0): `scale` has the values' shape with dim
      `axis` divided by `block_size`, rounded up; element `i` along `axis`
      uses scale `i / block_size`.

    `zero_point`, when present, has `scale`'s shape (0 when absent). The
    result has `scale`'s element type.

    `bits` is the width of one value. For 8, 16 and 32 it is the storage
    element's width, whose signedness (signless is signed, `ui` unsigned)
    is the values'. Sub-byte values (`bits = 4`) stay packed in `ui8`
    storage, two per byte along the last dimension, low nibble first; a
    row of `n` values takes `ceil(n / 2)` bytes and the result's last dim
    is `n`: twice the packed one unless `last_dim` gives an odd `n`.
    `is_signed` says whether the nibbles are int4 (-8..7) or uint4 (0..15).
    No tensor of `i4` ever exists. Zero points are never packed: for 4-bit
    values they are `i8` (int4) or `ui8` (uint4) holding the nibble's value.

    ```mlir
    %w = anvil.dequantize %q, %s, %zp {axis = 1 : i64, bits = 8 : i64} : (tensor<64x16xui8>, tensor<16xf32>, tensor<16xui8>) -> tensor<64x16xf32>
    %v = anvil.dequantize %q4, %s4 {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<16x32xui8>, tensor<16x2xf16>) -> tensor<16x64xf16>
    ```
  }];
  let arguments = (ins Anvil_IntegerTensor:$input, Anvil_FloatTensor:$scale,
                       Optional<Anvil_IntegerTensor>:$zero_point,
                       I64Attr:$bits,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       DefaultValuedAttr<BoolAttr, "false">:$is_signed,
                       OptionalAttr<I64Attr>:$last_dim);
  let results = (outs Anvil_FloatTensor:$result);
  let hasCanonicalizer = 1;
}

def Anvil_QuantizeOp : Anvil_InferredOp<"quantize"> {
  let summary = "floats to integers: saturate(round(x / scale) + zero_point)";
  let description = [{
    ONNX `QuantizeLinear` (opset 21) semantics for integer results: the
    quotient rounds half to even, the zero point is added and the sum
    saturates to the range of `bits`-bit values (signed or not). Scale,
    zero point, `axis` and `block_size` have the meaning they have in
    `anvil.dequantize`, as do `bits` and `is_signed`: the result's element
    type is the storage (`i8`, `ui8`, `i16`, `ui16`), and 4-bit results are
    packed two per byte along the last dimension, low nibble first, in
    `ui8` (an odd row leaves its last high nibble 0).

    ```mlir
    %q = anvil.quantize %x, %s, %zp {bits = 8 : i64} : (tensor<4x64xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x64xui8>
    %q4 = anvil.quantize %x, %s4 {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<4x64xf32>, tensor<4x2xf32>) -> tensor<4x32xui8>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$scale,
                       Optional<Anvil_IntegerTensor>:$zero_point,
                       I64Attr:$bits,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       DefaultValuedAttr<BoolAttr, "false">:$is_signed);
  let results = (outs Anvil_IntegerTensor:$result);
  let hasFolder = 1; // constants fold (AnvilFolders.cpp)
}

def Anvil_QuantizePerTokenOp : Anvil_InferredOp<"quantize_per_token"> {
  let summary = "symmetric int8 per row of the last dim, with its scales";
  let description = [{
    Dynamic activation quantization for W8A8 matmuls: each row `r` of the
    last dimension gets `scale[r] = max(|x[r, :]|) / 127` (1 for an all-zero
    row) and `q[r, :] = clamp(round_half_even(x[r, :] / scale[r]), -127, 127)`.
    The scales keep the row's shape with a last dim of 1, so they broadcast
    against `anvil.matmul`'s output; `anvil.dequantize` with
    `block_size` = the row length reads them too.

    ```mlir
    %q, %s = anvil.quantize_per_token %x : (tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x1xf32>)
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input);
  let results = (outs TensorOf<[I8]>:$result, Anvil_FloatTensor:$scale);
}

//===----------------------------------------------------------------------===//
// Indexing ops: ScatterElements, TopK (GatherND is above)
//===----------------------------------------------------------------------===//

def Anvil_ConvIntegerOp : Anvil_InferredOp<"conv_integer"> {
  let summary = "exact int32 convolution of 8-bit integers";
  let description = [{
    ONNX `ConvInteger` with a zero weight zero point: `input` `[N, C,
    spatial...]` of `i8` or `ui8`, `weight` `[M, C/group, kernel...]` of
    `i8`, `input_zero_point` one value of the input's type (rank 0 or 1).
    The result, `i32` `[N, M, out spatial...]`, is the sum over each
    window of `(input - input_zero_point) * weight`, wrapping as int32
    does; padding taps hold the zero point, so they add nothing.
    `strides`, `pads` and `dilations` mean what they mean in `anvil.conv`.
    (The importer writes it for ConvInteger and QLinearConv with int8
    weights whose zero points are all 0; other zero points take float
    convolutions in exact chunks.)

    ```mlir
    %y = anvil.conv_integer %x, %w, %xz {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xui8>, tensor<32x16x3x3xi8>, tensor<ui8>) -> tensor<1x32x8x8xi32>
    ```
  }];
  let arguments = (ins Anvil_IntegerTensor:$input, Anvil_IntegerTensor:$weight,
                       Anvil_IntegerTensor:$input_zero_point,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs Anvil_IntegerTensor:$result);
}

def Anvil_ScatterElementsOp : Anvil_InferredOp<"scatter_elements"> {
  let summary = "write (or combine) one element per index along an axis";
  let description = [{
    ONNX `ScatterElements`: the result is `input` with, for every position
    `p` of `indices`, `result[p with p[axis] = indices[p]] = updates[p]`
    (or combined with it by `reduction`: `add`, `mul`, `max`, `min`).
    `indices` and `updates` have the same shape, no dim larger than the
    input's; negative indices count from the end.

    ```mlir
    %s = anvil.scatter_elements %x, %idx, %u {axis = 1 : i64, reduction = "add"} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$indices,
                       Anvil_Tensor:$updates, I64Attr:$axis,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Anvil_Tensor:$result);
  let hasFolder = 1;
}

def Anvil_TopKOp : Anvil_InferredOp<"top_k"> {
  let summary = "the k largest or smallest elements along an axis";
  let description = [{
    ONNX `TopK`: along `axis`, the `k` largest (`largest`) or smallest
    elements, in order, and their int64 indices; equal values keep the
    lower index first, NaN counts as larger than every number. `k` is a
    one-element tensor; the result shapes are known once it is a constant
    (it may become one by folding, e.g. `min(shape[1], 50)`), which the
    lowering needs; it must not exceed the axis size. Results are always
    sorted (ONNX allows any order when `sorted` is false).

    ```mlir
    %v, %i = anvil.top_k %x, %k {axis = 1 : i64, largest = true} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, Anvil_IndexTensor:$k,
                       I64Attr:$axis, BoolAttr:$largest);
  let results = (outs Anvil_Tensor:$values, TensorOf<[I64]>:$indices);
}

//===----------------------------------------------------------------------===//
// Spatial ops (Resize, ConvTranspose): imported by
// compiler/Import/Onnx/SpatialOps.cpp, lowered by
// compiler/Lowering/SpatialToKernel.cpp
//===----------------------------------------------------------------------===//

def Anvil_ResizeOp : Anvil_InferredOp<"resize"> {
  let summary = "ONNX Resize: nearest, linear or cubic interpolation";
  let description = [{
    ONNX `Resize` (opset 19 semantics) over every axis. `scales` holds one
    scale per axis (1 for axes not resized); `roi` the starts of every
    axis, then the ends (read by `tf_crop_and_resize` only). `sizes` gives
    the output size of each axis, or -1 for `floor(input dim * scale)`.
    `mode` is nearest, linear or cubic; `coordinate_transformation_mode`
    and `nearest_mode` take the ONNX attribute's values.

    ```mlir
    %y = anvil.resize %x {antialias = false, coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "linear", nearest_mode = "round_prefer_floor", roi = array<f64: 0.0, 0.0, 1.0, 1.0>, scales = array<f64: 1.0, 2.0>, sizes = array<i64: -1, -1>} : (tensor<2x4xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, StrAttr:$mode,
                       StrAttr:$coordinate_transformation_mode,
                       StrAttr:$nearest_mode, F64Attr:$cubic_coeff_a,
                       BoolAttr:$exclude_outside, BoolAttr:$antialias,
                       F64Attr:$extrapolation_value,
                       DenseF64ArrayAttr:$scales, DenseF64ArrayAttr:$roi,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_ConvTransposeOp : Anvil_InferredOp<"conv_transpose"> {
  let summary = "N-d transposed convolution, channels first";
  let description = [{
    ONNX `ConvTranspose` with explicit pads: `input` is `[N, C, spatial...]`,
    `weight` `[C, M/group, kernel...]`, `bias` `[M]`. Output spatial dim i is
    `strides[i] * (in[i] - 1) + output_padding[i] + (kernel[i] - 1) *
    dilations[i] + 1 - pads[i] - pads[spatial + i]`.

    ```mlir
    %y = anvil.conv_transpose %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x2x9x9xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$weight,
                       Optional<Anvil_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding, I64Attr:$group);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_GridSampleOp : Anvil_InferredOp<"grid_sample"> {
  let summary = "ONNX GridSample: sampling at normalized grid locations";
  let description = [{
    `input` is `[N, C, spatial...]`, `grid` `[N, out spatial..., r]` with r
    the number of spatial dims (x first: the innermost dim). `mode` is
    nearest, linear or cubic; `padding_mode` zeros, border or reflection.

    ```mlir
    %y = anvil.grid_sample %x, %g {align_corners = false, mode = "linear", padding_mode = "zeros"} : (tensor<1x1x4x4xf32>, tensor<1x6x6x2xf32>) -> tensor<1x1x6x6xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$grid,
                       StrAttr:$mode, StrAttr:$padding_mode,
                       BoolAttr:$align_corners);
  let results = (outs Anvil_FloatTensor:$result);
}

def Anvil_Col2ImOp : Anvil_InferredOp<"col2im"> {
  let summary = "ONNX Col2Im: sliding-window columns summed back into an image";
  let description = [{
    `input` is `[N, C * prod(block_shape), L]` with L the number of blocks
    (per dim `(image + pads begin + pads end - (dilation * (block - 1) +
    1)) / stride + 1`, multiplied); the result is `[N, C, image_shape...]`.

    ```mlir
    %y = anvil.col2im %x {block_shape = array<i64: 1, 5>, dilations = array<i64: 1, 1>, image_shape = array<i64: 5, 5>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x5x5xf32>) -> tensor<1x1x5x5xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, DenseI64ArrayAttr:$image_shape,
                       DenseI64ArrayAttr:$block_shape,
                       DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$strides);
  let results = (outs Anvil_Tensor:$result);
}

def Anvil_MaxUnpoolOp : Anvil_InferredOp<"max_unpool"> {
  let summary = "ONNX MaxUnpool: values put back at their pooling indices";
  let description = [{
    `input` and `indices` are `[N, C, spatial...]`. The indices address a
    zero tensor of `[N, C, unpooled...]` (flat, row-major), which sits at
    the start of the `[N, C, output_spatial...]` result, as ONNX's
    reference implementation has it.

    ```mlir
    %y = anvil.max_unpool %x, %i {output_spatial = array<i64: 5, 5>, unpooled = array<i64: 4, 4>} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) -> tensor<1x1x5x5xf32>
    ```
  }];
  let arguments = (ins Anvil_Tensor:$input, TensorOf<[I64]>:$indices,
                       DenseI64ArrayAttr:$unpooled,
                       DenseI64ArrayAttr:$output_spatial);
  let results = (outs Anvil_Tensor:$result);
}

#endif // ANVIL_OPS_TD
