//===- Passes.td - lowering anvil to kernel programs -------*- tablegen -*-===//

#ifndef ANVIL_LOWERING_PASSES_TD
#define ANVIL_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAnvilToKernel
    : Pass<"convert-anvil-to-kernel", "::mlir::func::FuncOp"> {
  let summary = "Bufferize an anvil function into a kernel program";
  let description = [{
    Graph inputs and outputs become the function's buffer arguments (inputs
    first, then outputs; the function returns nothing), intermediates
    `kernel.alloc`s and constants `kernel.weight`s. Reshapes become
    `kernel.view`s; elementwise ops become `kernel.elementwise` loops with an
    `arith`/`math` body (splat constants inlined); transpose, slice, concat
    and split become `copy_strided` launches; every other op a launch of the
    target's kernel with normalized parameters, built through the kernel
    catalog. The op that computes a graph output writes into the output
    buffer directly. Every shape must be static, or follow from the bounded
    sizes the function lists (`anvil.sizes`, from `--dim=NAME=MIN..MAX`):
    each `?` dim becomes an expression over them (a polynomial of degree
    <= 2, found by evaluating the program's shape rules inside the bounds),
    buffers with `?` dims carry their dims (`kernel.dims`), run-time params
    become affine maps over the sizes (`kernel.sizes`), and shape
    computations get no code. Unbound symbolic dims are reported by input
    name, dims that do not follow from the sizes by op.

    A matmul of a dequantized constant weight runs on the quantized kernel
    (`matmul_quant`) on the packed integer values. A float16 or bfloat16
    matmul of a constant weight (16-bit, or a W4A16 / W8A16 QDQ weight the
    quantized kernel takes) is first rewritten in float32 around the same
    weight: its activations cast up (once per value), a QDQ weight's
    constant scales widened at compile time, the product cast back once.
    A 16-bit matmul of two activations and a 16-bit `anvil.attention` run
    on float32 copies of their operands the same way, and so does a 16-bit
    `anvil.conv`, whose constant weight and bias are copied to float32 at
    compile time.

    ```mlir
    // Before:
    func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
      %0 = anvil.relu %x : (tensor<4xf32>) -> tensor<4xf32>
      return %0 : tensor<4xf32>
    }
    // After:
    func.func @main(%x: memref<4xf32>, %out: memref<4xf32>)
        attributes {kernel.num_inputs = 1 : i64} {
      kernel.elementwise ins(%x : memref<4xf32>) outs(%out : memref<4xf32>) {
      ^bb0(%v: f32):
        %c = arith.constant 0.0 : f32
        %r = arith.maxf %v, %c : f32
        kernel.yield %r : f32
      }
      return
    }
    ```
  }];
  let dependentDialects = ["::anvil::kernel::KernelDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def AnvilFuseElementwise
    : Pass<"anvil-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Merge chains of elementwise loops into one loop";
  let description = [{
    When a `kernel.elementwise` loop writes a buffer that only one other
    elementwise loop of the same shape reads, the producer's body is inlined
    into the consumer and the intermediate buffer disappears: one pass over
    memory instead of two, and less arena. A fused loop stops growing at
    `max-ops` body ops or `max-inputs` inputs, so a chain of tens of
    thousands of ops becomes loops of bounded size (C++ compilers take
    time superlinear in one loop body's length).

    ```mlir
    // Before:
    %t = kernel.alloc : memref<8xf32>
    kernel.elementwise ins(%x : memref<8xf32>) outs(%t : memref<8xf32>) { ...exp... }
    kernel.elementwise ins(%t, %y : memref<8xf32>, memref<8xf32>) outs(%o : memref<8xf32>) { ...addf... }
    // After:
    kernel.elementwise ins(%y, %x : memref<8xf32>, memref<8xf32>) outs(%o : memref<8xf32>) { ...exp, addf... }
    ```
  }];
  let options = [
    Option<"maxOps", "max-ops", "int64_t", /*default=*/"256",
           "Stop growing a fused loop at this many body ops">,
    Option<"maxInputs", "max-inputs", "int64_t", /*default=*/"32",
           "Stop growing a fused loop at this many input buffers">,
  ];
  let dependentDialects = ["::anvil::kernel::KernelDialect"];
}

def AnvilFuseMatmulEpilogue
    : Pass<"anvil-fuse-matmul-epilogue", "::mlir::func::FuncOp"> {
  let summary = "Run the elementwise loop after a matmul or a convolution "
                "inside it";
  let description = [{
    When the float result of a `matmul` launch (one matrix: `batch_rank`
    0), a `matmul_quant` launch or a `conv2d` launch is read by one
    `kernel.elementwise` loop alone, element by element (a bias add, an
    activation, a residual add, or a chain of them `anvil-fuse-elementwise`
    merged), the launch writes the loop's output instead, and the loop,
    marked `kernel.epilogue` and moved right after the launch, reads that
    output in place. The kernel then runs the loop's body on each block of
    the result it finishes (rows x columns, still in cache) instead of a
    second pass over the result afterwards: one parallel loop and one
    intermediate buffer fewer. A matmul's result is seen as [m, n] (n its
    last dim), a convolution's [N, M, spatial...] one as [N x M, spatial
    elements]. The loop's other inputs must broadcast over those rows and
    columns as a whole (the same leading dims, or only 1s there; the same
    column dims, or only 1s there: a bias, a residual, a per-row scale, a
    per-channel scale of one image, a constant), and nothing between the
    launch and the loop may write them or touch the loop's output. The
    operations are the loop's own, so results are the same bits as
    unfused.

    ```mlir
    // Before:
    %t = kernel.alloc : memref<4x8xf32>
    kernel.launch "matmul" ins(%x, %w : ...) outs(%t : memref<4x8xf32>) params {...}
    kernel.elementwise ins(%t, %bias : memref<4x8xf32>, memref<8xf32>) outs(%y : memref<4x8xf32>) { ...addf... }
    // After:
    kernel.launch "matmul" ins(%x, %w : ...) outs(%y : memref<4x8xf32>) params {...}
    kernel.elementwise ins(%y, %bias : memref<4x8xf32>, memref<8xf32>) outs(%y : memref<4x8xf32>) { ...addf... } {kernel.epilogue}
    ```
  }];
  let dependentDialects = ["::anvil::kernel::KernelDialect"];
}

def AnvilPlanMemory : Pass<"anvil-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Place every intermediate buffer at an offset of one arena";
  let description = [{
    Computes each `kernel.alloc`'s live range (from its definition to its
    last use, through views) and packs the buffers into one arena, reusing
    bytes whose buffers are dead. An elementwise loop whose input buffer
    dies at the loop and has the output's shape and element type width
    writes in place. Replaces the
    allocs with `kernel.buffer arena[offset]` and records the plan on the
    function: `kernel.arena_bytes` (the peak) and `kernel.naive_arena_bytes`
    (one slot per buffer, for comparison). Offsets are 64-byte aligned.
    A buffer with bounded dims (`kernel.dims`) takes the bytes of the largest
    size the function's `kernel.sizes` allow, so offsets stay static.

    ```mlir
    // Before:
    %a = kernel.alloc : memref<256xf32>
    %b = kernel.alloc : memref<256xf32>   // %a is dead once %b is computed
    %c = kernel.alloc : memref<256xf32>
    // After:
    %a = kernel.buffer arena[0] : memref<256xf32>
    %b = kernel.buffer arena[1024] : memref<256xf32>
    %c = kernel.buffer arena[0] : memref<256xf32>
    ```
  }];
  let dependentDialects = ["::anvil::kernel::KernelDialect"];
}

def AnvilPackWeights : Pass<"anvil-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Pack weights for the target and lay out the weight section";
  let description = [{
    First runs the weight-packing hook of the target named by `target`
    (looked up in the target registry, compiler/Target). The hook gives
    weights that the target's kernels want in another layout a `layout`
    attribute and a buffer of that shape, and adjusts the launches reading
    them; the bytes are rearranged only as the weight section is written.
    The `cpu` target stores an f32 matmul's constant right-hand side in
    column panels (`layout = "panels32"` for a `[K, N]` weight,
    `"nk_panels32"` for a `[N, K]` one; launch parameter `rhs_panel = 32`)
    for its SIMD micro-kernel, and other element types' `[N, K]` weights
    as `[K, N]` (`layout = "kn"`) so the row-major kernel's inner loop
    runs over contiguous output columns. A float `conv2d` with small
    output planes (group 1, at least 256 output channels, at most 256
    pixels that would leave more than a tenth of the 32-pixel panels'
    lanes empty, such as 7 x 7, or a twentieth for a kernel of several
    taps, such as a 3x3 at 14 x 14) gets the same panels from its
    `[M, C, kh, kw]` weight read as `[M, K]` (`"nk_panels32"`, a `[K, M]`
    buffer; launch parameter `weight_panel = 32`): its kernel then puts
    the output channels in the vector lanes and the pixels in the rows.
    Every other float `conv2d` of group 1 that the kernel runs as a
    product (4 or more output channels, 8 or more taps, planar tensors)
    stores its weight in row tiles (`"row_tiles12"`: 12 output channels
    per tile, K-major inside, a `[ceil(M / 12), K, 12]` buffer; launch
    parameter `weight_tile_rows = 12`), the rows of the product's
    register tiles: each tile's 12 weights of a tap are one 48-byte run.
    So do the two 1x1 convolutions of an inverted residual block (a 1x1
    expansion whose output only a depthwise convolution reads, whose
    output only a 1x1 projection reads, each epilogue none or a loop
    reading nothing but its output, such as Relu, Clip or HardSwish):
    the block's two inner tensors are then kept channels last (launch
    parameters `out_nhwc` on the expansion and the depthwise convolution,
    `in_nhwc` on the depthwise convolution and the projection). Then gives every `kernel.weight`
    its byte offset in the weight section (64-byte aligned, 4096 for weights of 64 KiB or more so they
    can be mapped page by page; identical weights in the same layout share
    one copy) and records the section size as `kernel.weight_bytes` on the
    module, and as `kernel.streamed_weight_bytes` the bytes of the copies
    some use reads whole (not those only `gather` launches read, such as a
    token embedding, nor unread ones): a decode step's weight traffic,
    which `anvil-bench`'s roofline uses.

    ```mlir
    // Before:
    %w = kernel.weight dense<...> : tensor<64x32xf32> : memref<64x32xf32>
    kernel.launch "matmul" ins(%x, %w : ...) ... {transpose_rhs = true, ...}
    // After (cpu):
    %w = kernel.weight [0] dense<...> : tensor<64x32xf32> {layout = "nk_panels32"}
        : memref<32x64xf32>
    kernel.launch "matmul" ins(%x, %w : ...) ... {rhs_panel = 32, transpose_rhs = false, ...}
    ```
  }];
  let dependentDialects = ["::anvil::kernel::KernelDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "The registered target whose weight-packing hook runs">
  ];
}

#endif // ANVIL_LOWERING_PASSES_TD
