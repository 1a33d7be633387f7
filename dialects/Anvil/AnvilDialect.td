//===- AnvilDialect.td - the anvil graph dialect -----------*- tablegen -*-===//
//
// The `anvil` dialect: tensors with value semantics, one op per operation a
// model graph needs, normalized from ONNX rather than mirroring it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECT_TD
#define ANVIL_DIALECT_TD

include "mlir/IR/OpBase.td"

def Anvil_Dialect : Dialect {
  let name = "anvil";
  let cppNamespace = "::anvil";
  let summary = "Anvil's graph dialect: tensor operations with value semantics";
  let description = [{
    The `anvil` dialect is what the ONNX importer produces and what graph-level
    passes (shape inference, constant folding, pattern recognition, fusion,
    quantization) transform. Operands and results are tensors; symbolic
    dimensions (batch, sequence, past length) are dynamic dims (`?`) until
    they are bound. Ops are normalized: ONNX `Gemm` becomes `anvil.matmul`
    plus elementwise ops, `GlobalAveragePool` becomes `anvil.reduce`, and
    operations later passes need to see as one (`anvil.rms_norm`,
    `anvil.rope`, `anvil.attention`, `anvil.silu`) are first-class.

    Example:

    ```mlir
    func.func @main(%x: tensor<?x16xf32>, %w: tensor<16xf32>) -> tensor<?x16xf32> {
      %0 = anvil.rms_norm %x, %w {epsilon = 1.0e-05 : f32}
          : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
      return %0 : tensor<?x16xf32>
    }
    ```
  }];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
  let useFoldAPI = kEmitFoldAdaptorFolder;
  // arith and math: elementwise payloads are built from them (folding
  // evaluates a payload, so it builds one).
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

class Anvil_Op<string mnemonic, list<Trait> traits = []>
    : Op<Anvil_Dialect, mnemonic, traits>;

// Element types the dialect accepts. Integer types carry indices, masks and
// (later) quantized weights; i4/i8 are there for quantization to come.
def Anvil_ElementType : AnyTypeOf<[AnyFloat, AnyInteger]>;
def Anvil_Tensor : TensorOf<[Anvil_ElementType]>;
def Anvil_IndexTensor : TensorOf<[I32, I64]>;
def Anvil_BoolTensor : TensorOf<[I1]>;
def Anvil_FloatTensor : TensorOf<[AnyFloat]>;

#endif // ANVIL_DIALECT_TD
