//===- KernelOps.td - the kernel program dialect -----------*- tablegen -*-===//
//
// The `kernel` dialect is the explicit program a target's code generator
// reads: buffers (arena slots, weights, views of either), kernel launches
// with their parameters, and fused elementwise regions. Buffers are
// statically shaped, or have bounded `?` dims planned at their maxima;
// nothing is allocated at run time.
//
//===----------------------------------------------------------------------===//

#ifndef KERNEL_OPS_TD
#define KERNEL_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kernel_Dialect : Dialect {
  let name = "kernel";
  let cppNamespace = "::anvil::kernel";
  let summary = "Anvil's kernel programs: buffers, launches, fused loops";
  let description = [{
    A kernel program is a `func.func` whose arguments are the entry point's
    input buffers followed by its output buffers (`memref`s; the function
    returns nothing). Shapes are static, except that a function with bounded
    sizes (`kernel.sizes`, a list of `{name, min, max}` dictionaries whose
    values the entry point receives at run time in this order) may have
    buffers with `?` dims, each buffer
    then carrying all its dims over the sizes (`kernel.dims =
    affine_map<()[s0] -> (1, s0, 64)>`, an argument attribute for the
    function's buffers), and run-time launch parameters may be affine maps
    over the sizes. Its body allocates buffers,
    launches kernels on them and runs fused elementwise loops:

    ```mlir
    func.func @main(%x: memref<4x16xf32> {anvil.name = "x"},
                    %y: memref<4x8xf32> {anvil.name = "y"})
        attributes {kernel.num_inputs = 1 : i64} {
      %w = kernel.weight dense<1.0> : tensor<16x8xf32> : memref<16x8xf32>
      %t = kernel.alloc : memref<4x8xf32>
      kernel.launch "matmul" ins(%x, %w : memref<4x16xf32>, memref<16x8xf32>)
          outs(%t : memref<4x8xf32>) params {m = 4 : i64, n = 8 : i64,
          k = 16 : i64, transpose_rhs = false, batch_rank = 0 : i64,
          batch = array<i64>, lhs_batch_strides = array<i64>,
          rhs_batch_strides = array<i64>}
      kernel.elementwise ins(%t : memref<4x8xf32>) outs(%y : memref<4x8xf32>) {
      ^bb0(%v: f32):
        %c = arith.constant 0.0 : f32
        %r = arith.maxf %v, %c : f32
        kernel.yield %r : f32
      }
      return
    }
    ```

    Lowering from `anvil` (`convert-anvil-to-kernel`) creates `kernel.alloc`
    for every intermediate; `anvil-plan-memory` replaces them with
    `kernel.buffer` slots at fixed offsets of one arena, and
    `anvil-pack-weights` gives every `kernel.weight` its offset in the
    artifact's weight section.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::func::FuncDialect"];
  let useFoldAPI = kEmitFoldAdaptorFolder;
}

class Kernel_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kernel_Dialect, mnemonic, traits>;

def Kernel_Buffer : MemRefOf<[AnyFloat, AnyInteger]>;

def Kernel_AllocOp : Kernel_Op<"alloc"> {
  let summary = "a buffer not yet placed in the arena";
  let description = [{
    Produced by bufferization; `anvil-plan-memory` replaces every one with a
    `kernel.buffer`. Code generators reject unplanned buffers.

    ```mlir
    %t = kernel.alloc : memref<4x8xf32>
    ```
  }];
  let results = (outs Kernel_Buffer:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def Kernel_BufferOp : Kernel_Op<"buffer", [Pure]> {
  let summary = "a buffer at a fixed byte offset of the arena";
  let description = [{
    ```mlir
    %t = kernel.buffer arena[1024] : memref<4x8xf32>
    ```
  }];
  let arguments = (ins I64Attr:$offset);
  let results = (outs Kernel_Buffer:$buffer);
  let assemblyFormat = "`arena` `[` $offset `]` attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def Kernel_WeightOp : Kernel_Op<"weight", [Pure]> {
  let summary = "a constant buffer, stored in the artifact's weight section";
  let description = [{
    `offset` (set by `anvil-pack-weights`) is the byte offset of the data in
    the weight section. The data is the attribute's elements in row-major
    order, one byte per `i1`.

    `layout` (set by a target's weight-packing hook) says that the buffer
    holds the value rearranged for the kernels that read it; the value
    keeps the model's layout and is rearranged only as the weight section
    is written, so no second copy is ever held in memory. The layouts
    (dialects/Kernel/WeightData.h): `"kn"`, a `[N, K]` value stored
    transposed, as a `[K, N]` buffer; `"panels32"`, a `[K, N]`
    matrix stored in panels of 32 columns (the last one narrower), each
    K-major, for the cpu SIMD matmul (backends/cpu/kernels/matmul_panels.h);
    `"nk_panels32"`, the same panels from a `[N, K]` value, or from a
    static `[N, d1, d2, ...]` one read as `[N, d1 x d2 x ...]` (a
    convolution's weight; the buffer is `[K, N]` in these three); and the
    quantized matmul's panels
    (`"q8_n16"`, `"q8_n16_kn"` with optional `"_biased"` and `"_sums"`;
    `"q4_n16_k8"`, `"q4_n16_kn_k8"` with optional `"_biased"`: a 4-bit
    layout always stores eight k to a word), a 1-D buffer of the panel
    bytes (docs/quantization.md lists them).

    ```mlir
    %w = kernel.weight [4096] dense<1.0> : tensor<16x8xf32> : memref<16x8xf32>
    %t = kernel.weight [8192] dense<2.0> : tensor<16x8xf32> {layout = "kn"}
        : memref<8x16xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value, OptionalAttr<I64Attr>:$offset,
                       OptionalAttr<StrAttr>:$layout);
  let results = (outs Kernel_Buffer:$buffer);
  let assemblyFormat = "(`[` $offset^ `]`)? $value attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def Kernel_ViewOp : Kernel_Op<"view", [Pure]> {
  let summary = "the same bytes with another shape";
  let description = [{
    Buffers are contiguous and row-major, so reshapes cost nothing: a view
    shares its source's storage, and memory planning keeps the source alive
    as long as any view of it is used.

    ```mlir
    %v = kernel.view %t : memref<4x8xf32> to memref<32xf32>
    ```
  }];
  let arguments = (ins Kernel_Buffer:$source);
  let results = (outs Kernel_Buffer:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `to` type($result)";
  let hasVerifier = 1;
}

def Kernel_LaunchOp : Kernel_Op<"launch", [AttrSizedOperandSegments]> {
  let summary = "run a named kernel of the catalog on buffers";
  let description = [{
    `kernel` names a kernel of the catalog (`dialects/Kernel/
    KernelCatalog.def`), which every target's library implements; `params`
    holds exactly the parameters the catalog declares for it, each of its
    declared kind (integer, boolean, float, string, integer array of at most
    the declared length). A parameter the catalog declares `Runtime` may
    instead be an affine map over the function's sizes (`kernel.sizes`),
    `affine_map<()[s0] -> (s0 * 64)>`, evaluated when the entry point runs;
    `Static` ones are always constants. The kernel reads `ins` and writes
    `outs`; an output may not also be an input. The verifier checks the
    kernel's name, its operand counts and its parameters against the catalog.

    ```mlir
    kernel.launch "softmax" ins(%x : memref<8x64xf32>) outs(%y : memref<8x64xf32>)
        params {inner = 1 : i64, log = false, outer = 8 : i64, size = 64 : i64}
    ```
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<Kernel_Buffer>:$inputs,
                       Variadic<Kernel_Buffer>:$outputs, DictionaryAttr:$params);
  let assemblyFormat = [{
    $kernel (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    `outs` `(` $outputs `:` type($outputs) `)` `params` $params attr-dict
  }];
  let hasVerifier = 1;
}

def Kernel_ElementwiseOp : Kernel_Op<"elementwise", [SingleBlock]> {
  let summary = "a fused elementwise loop nest";
  let description = [{
    Runs the region once per element of `output`. Inputs broadcast to the
    output's shape with numpy rules (right-aligned, size-1 dims repeat); the
    region gets one scalar per input and yields the output's element. The
    body holds `arith` and `math` ops. Fusion (`anvil-fuse-elementwise`)
    merges chains of these into one loop.

    ```mlir
    kernel.elementwise ins(%a, %b : memref<4x8xf32>, memref<8xf32>) outs(%c : memref<4x8xf32>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      kernel.yield %s : f32
    }
    ```
  }];
  let arguments = (ins Variadic<Kernel_Buffer>:$inputs, Kernel_Buffer:$output);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    `outs` `(` $output `:` type($output) `)` $body attr-dict
  }];
  let hasVerifier = 1;
}

def Kernel_YieldOp : Kernel_Op<"yield",
    [Pure, Terminator, HasParent<"ElementwiseOp">]> {
  let summary = "the element an elementwise region computes";
  let arguments = (ins AnyType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

#endif // KERNEL_OPS_TD
