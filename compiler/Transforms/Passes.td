//===- Passes.td - Anvil graph passes ----------------------*- tablegen -*-===//

#ifndef ANVIL_TRANSFORMS_PASSES_TD
#define ANVIL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AnvilInferShapes : Pass<"anvil-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "Refine result types from operand shapes and constants";
  let description = [{
    Re-runs every op's shape inference in program order and keeps the more
    static of the inferred and the current type, then updates the function
    signature. This propagates dimensions bound at import (`--dim`) and
    shapes that became known by folding. Types that contradict each other
    are reported as errors.

    ```mlir
    // Before:
    %r = anvil.reshape %x, %c : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?xf32>
    // After (with %c = dense<6>):
    %r = anvil.reshape %x, %c : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilFoldConstants : Pass<"anvil-fold-constants", "::mlir::func::FuncOp"> {
  let summary = "Fold shape arithmetic to constants";
  let description = [{
    Exporters compute shapes at run time: `Shape`, `Gather`, `Unsqueeze`,
    `Concat` and `Cast` chains feeding `Reshape`, `Expand` and `Slice`. Once
    shapes are static these are constants. Each round sweeps the function
    in program order, refining every op's types and folding it at once (so
    a shape folded in a decoder's first layer reaches its last layer in the
    same round), then runs inference and the greedy folder with dead-code
    elimination; rounds repeat until nothing changes.

    ```mlir
    // Before:
    %s = anvil.shape_of %x {start = 0 : i64} : (tensor<1x8xf32>) -> tensor<2xi64>
    %i = anvil.constant dense<1> : tensor<i64>
    %d = anvil.gather %s, %i {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
    // After:
    %d = anvil.constant dense<8> : tensor<i64>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "unsigned", /*default=*/"16",
           "Rounds of inference and folding before giving up on a fixpoint">
  ];
}

def AnvilDecomposeComposites : Pass<"anvil-decompose-composites", "::mlir::func::FuncOp"> {
  let summary = "Decompose imported composites once their shapes are static";
  let description = [{
    ONNX ops whose decomposition needs static shapes are imported as one
    composite op when their shapes are not known at import (they often
    become known only when shape arithmetic folds). This pass, run after
    `anvil-fold-constants`, decomposes them; a composite whose shapes are
    still not static is an error that names the node.

    - `anvil.onnx_attention` becomes `anvil.attention` with the causal
      mask (aligned after the cached positions) and the padded additive
      mask, and the scale `1/sqrt(head_dim)` unless one was given.

    ```mlir
    // Before (shapes folded to static):
    %y = anvil.onnx_attention %q, %k, %v {is_causal = true, operand_segment_sizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<1x4x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x4x2x8xf32>
    // After:
    %m = anvil.constant dense<[[0.0, 0xFF800000], [0.0, 0.0]]> : tensor<2x2xf32>
    %y = anvil.attention %q, %k, %v, %m {scale = 0.353553385 : f32} : (tensor<1x4x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<2x2xf32>) -> tensor<1x4x2x8xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilRecognizeNorms : Pass<"anvil-recognize-norms", "::mlir::func::FuncOp"> {
  let summary = "Rewrite decomposed RMSNorm and LayerNorm into anvil.rms_norm / anvil.layer_norm";
  let description = [{
    Matches the normalizations exporters decompose, by dataflow and in the
    canonical form `-canonicalize` leaves (`pow(x, 2)` is `mul(x, x)`,
    `1 / sqrt(v)` is `rsqrt(v)`, constants on the right):

    - RMSNorm: `x * rsqrt(mean(x * x, last axis, keepdims) + eps)`, then an
      optional `* w` with a 1-D `w` of the last dim's size (without one, the
      scale is ones).
    - LayerNorm: `d = x - mean(x)`, `d * rsqrt(mean(d * d) + eps)`, then an
      optional `* w` and `+ b`, over the last axis.

    The reduction must be a mean over exactly the last axis with
    `keepdims`, `eps` a scalar constant, and the result the input's type;
    anything else is left alone.

    ```mlir
    // Before:
    %sq = anvil.mul %x, %x : (tensor<1x4x64xf32>, tensor<1x4x64xf32>) -> tensor<1x4x64xf32>
    %m = anvil.reduce %sq {axes = array<i64: 2>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<1x4x64xf32>) -> tensor<1x4x1xf32>
    %v = anvil.add %m, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
    %r = anvil.rsqrt %v : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
    %n = anvil.mul %x, %r : (tensor<1x4x64xf32>, tensor<1x4x1xf32>) -> tensor<1x4x64xf32>
    %y = anvil.mul %n, %w : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
    // After:
    %y = anvil.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilRecognizeActivations : Pass<"anvil-recognize-activations", "::mlir::func::FuncOp"> {
  let summary = "Rewrite decomposed SiLU and GELU (erf and tanh forms) into one op";
  let description = [{
    - SiLU: `x * sigmoid(x)`, either operand order, becomes `anvil.silu`.
    - GELU: `0.5 * x * (1 + erf(x / sqrt(2)))` (or `x * (1/sqrt(2))`)
      becomes `anvil.gelu`; the tanh approximation
      `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))` becomes
      `anvil.gelu {approximation = tanh}`.

    Products are matched as a set of factors, so any association and order
    of the multiplications matches; the constants must equal the ones in
    the definitions (to float32 precision).

    ```mlir
    // Before:
    %d = anvil.div %x, %sqrt2 : (tensor<4x128xf32>, tensor<f32>) -> tensor<4x128xf32>
    %e = anvil.erf %d : (tensor<4x128xf32>) -> tensor<4x128xf32>
    %a = anvil.add %e, %one : (tensor<4x128xf32>, tensor<f32>) -> tensor<4x128xf32>
    %m = anvil.mul %x, %a : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    %y = anvil.mul %m, %half : (tensor<4x128xf32>, tensor<f32>) -> tensor<4x128xf32>
    // After:
    %y = anvil.gelu %x : (tensor<4x128xf32>) -> tensor<4x128xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilRecognizeRope : Pass<"anvil-recognize-rope", "::mlir::func::FuncOp"> {
  let summary = "Rewrite written-out rotary embeddings (rotate-half and adjacent pairs) into anvil.rope";
  let description = [{
    Matches `x * cos + rotate_half(x) * sin`, where
    `rotate_half(x) = concat(-x[..., d/2:], x[..., :d/2])` along the last
    axis (in any operand order of the add and the multiplies). The full
    width `cos`/`sin` tables must provably repeat their first half (they are
    `cos(concat(f, f))`, a gather or unsqueeze of such a table, or a
    constant whose halves are equal); anvil.rope takes the half tables.

    ```mlir
    // Before:
    %lo = anvil.slice %x, %c0, %c8, %c3, %c1 : (...) -> tensor<1x4x5x8xf32>
    %hi = anvil.slice %x, %c8, %cmax, %c3, %c1 : (...) -> tensor<1x4x5x8xf32>
    %n = anvil.neg %hi : (tensor<1x4x5x8xf32>) -> tensor<1x4x5x8xf32>
    %r = anvil.concat %n, %lo {axis = 3 : i64} : (...) -> tensor<1x4x5x16xf32>
    %a = anvil.mul %x, %cos : (tensor<1x4x5x16xf32>, tensor<1x1x5x16xf32>) -> tensor<1x4x5x16xf32>
    %b = anvil.mul %r, %sin : (tensor<1x4x5x16xf32>, tensor<1x1x5x16xf32>) -> tensor<1x4x5x16xf32>
    %y = anvil.add %a, %b : (tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>) -> tensor<1x4x5x16xf32>
    // After (%cos = cos(concat(%f, %f)) becomes cos(%f)):
    %y = anvil.rope %x, %cos_half, %sin_half {interleaved = false} : (tensor<1x4x5x16xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>) -> tensor<1x4x5x16xf32>
    ```

    It also matches the rotation of adjacent pairs `(2i, 2i+1)` written out
    (Meta's and GPT-J's layout): with `e` and `o` the even and odd elements
    of x's last dim, `flatten(stack(e * cos - o * sin, o * cos + e * sin,
    -1), -2)`. `e`/`o` are strided slices `x[..., 0::2]`/`x[..., 1::2]`,
    or the two halves of a split (or unit slices) of `reshape(x, [..., d/2,
    2])` with the unit dim dropped; the stack is two unsqueezes (or
    reshapes) and a concat on a new last axis, the flatten a reshape. The
    tables already hold one angle per pair and become anvil.rope's as they
    are, with `interleaved = true`.

    GPT-J's spelling, `x * cos2 + rotate_every_two(x) * sin2` with
    `rotate_every_two(x) = flatten(stack(-o, e, -1), -2)`, is matched like
    the rotate-half one, its full-width tables proven to repeat each element
    twice (`repeat_interleave(t, 2, -1)` as a tile, an expand or a concat of
    `t` with a trailing unit dim, then a reshape; or a constant with equal
    pairs, which becomes a constant of its even elements).

    A partial rotation, `concat(rope(x[..., :r]), x[..., r:])` on the last
    axis, becomes `rope(x) {rotary_dim = r}` (with `r = d` and an empty
    pass-through, the rope of x itself).
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilRecognizeAttention : Pass<"anvil-recognize-attention", "::mlir::func::FuncOp"> {
  let summary = "Rewrite matmul-softmax-matmul attention into anvil.attention";
  let description = [{
    Matches `matmul(softmax(matmul(q, k^T) * scale + mask, last axis), v)`
    on `[batch, heads, seq, dim]` tensors. `k^T` is a transpose of the last
    two dims or `transpose_rhs`; the scale may be applied (by multiplying or
    dividing by a scalar constant) to `q`, to `k`, to `k^T` or to the
    scores, in any combination, and the factors are multiplied together.
    The additive mask is optional and must broadcast to the scores without
    enlarging them; scores masked by `where(cond, s, fill)` with a huge
    negative `fill` (GPT-2's causal mask) add `where(cond, 0, fill)` to it. Grouped KV heads that the exporter repeated
    (`unsqueeze`/`expand`/`reshape`) are folded into the op's KV-head
    broadcast.

    ```mlir
    // Before:
    %kt = anvil.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x9x16xf32>) -> tensor<1x4x16x9xf32>
    %s = anvil.matmul %q, %kt : (tensor<1x4x1x16xf32>, tensor<1x4x16x9xf32>) -> tensor<1x4x1x9xf32>
    %t = anvil.mul %s, %c : (tensor<1x4x1x9xf32>, tensor<f32>) -> tensor<1x4x1x9xf32>
    %u = anvil.add %t, %mask : (tensor<1x4x1x9xf32>, tensor<1x1x1x9xf32>) -> tensor<1x4x1x9xf32>
    %p = anvil.softmax %u {axis = 3 : i64} : (tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
    %o = anvil.matmul %p, %v : (tensor<1x4x1x9xf32>, tensor<1x4x9x16xf32>) -> tensor<1x4x1x16xf32>
    // After:
    %o = anvil.attention %q, %k, %v, %mask {scale = 2.500000e-01 : f32} : (...) -> tensor<1x4x1x16xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilPagedKv : Pass<"anvil-paged-kv", "::mlir::ModuleOp"> {
  let summary = "Rewrite a decoder with a past/present KV cache into the paged step function";
  let description = [{
    DESIGN "Execution model for decoder LLMs". The decoder arrives
    specialized at proxy sizes (batch 1, `proxy-tokens` new tokens,
    `proxy-past` cached positions) after the -O2 recognizers, so attention
    is `anvil.attention`. The KV cache is found by dataflow: a rank-4 graph
    input concatenated with new keys or values along the sequence axis that
    feeds attention and leaves as an output. Each such attention becomes
    `anvil.kv_write` (the new rows into a paged pool, an in-out state) plus
    `anvil.paged_attention` (reading the sequence's keys through its block
    table). The attention mask is evaluated at compile time with a full
    `attention_mask` and must be the end-aligned causal mask (optionally
    windowed, which sets the layer's window): in paged form causality comes
    from positions. The token ids and position ids inputs become the step's
    `token_ids` and `positions` (`[tokens]`); the logits are computed only
    for the rows in `logit_rows`. The token count, sequence count, logit
    rows and pool blocks become bounded sizes; a computation that depends on
    the proxy sizes in any other way (a constant sized by them, a past
    length read from a shape) is rejected naming the op.

    `kv-dtype=f16` stores the pools as f16 (a model of f32 activations
    keeps computing in f32: `kv_write` rounds the new rows to f16 and
    `paged_attention` widens the keys and values it reads), halving the
    bytes per cached token. `kv-dtype=int8` stores them as i8 with an f32
    scale per (slot, KV head) in a second state per pool,
    `kv_scales.<past input>` (`[kv_blocks, block_size, kv_heads]`, after
    every pool): `kv_write` quantizes each head's row symmetrically
    (scale = max|x| / 127, round to nearest even) and returns the new
    scales as a second result, which `paged_attention` reads (so the write
    is ordered before the read by dataflow) to dequantize; a quarter of
    f32's bytes plus 4 bytes per head and token.

    ```mlir
    // Before (proxy-tokens = 17, proxy-past = 29):
    %k = anvil.concat %past_k, %k_new {axis = 2 : i64} : (tensor<1x2x29x16xf32>, tensor<1x2x17x16xf32>) -> tensor<1x2x46x16xf32>
    %v = anvil.concat %past_v, %v_new {axis = 2 : i64} : (...) -> tensor<1x2x46x16xf32>
    %o = anvil.attention %q, %k, %v, %causal_mask {scale = 0.25 : f32} : (...) -> tensor<1x4x17x16xf32>
    // After:
    %kp = anvil.kv_write %key_pool, %k_rows, %slot_mapping : (tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<?x16x2x16xf32>
    %vp = anvil.kv_write %value_pool, %v_rows, %slot_mapping : (...) -> tensor<?x16x2x16xf32>
    %o = anvil.paged_attention %q_rows, %kp, %vp, %block_tables, %context_lens, %positions, %seq_of_token {scale = 0.25 : f32} : (...) -> tensor<?x4x16xf32>
    // After, with kv-dtype=int8:
    %kp, %ks = anvil.kv_write %key_pool, %k_rows, %slot_mapping, %key_scales : (tensor<?x16x2x16xi8>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<?x16x2xf32>) -> (tensor<?x16x2x16xi8>, tensor<?x16x2xf32>)
    %vp, %vs = anvil.kv_write %value_pool, %v_rows, %slot_mapping, %value_scales : (...) -> (tensor<?x16x2x16xi8>, tensor<?x16x2xf32>)
    %o = anvil.paged_attention %q_rows, %kp, %vp, %block_tables, %context_lens, %positions, %seq_of_token scales(%ks, %vs) {scale = 0.25 : f32} : (...) -> tensor<?x4x16xf32>
    ```
  }];
  let options = [
    Option<"proxyTokens", "proxy-tokens", "int64_t", /*default=*/"17",
           "The new-token count the model was specialized at">,
    Option<"proxyPast", "proxy-past", "int64_t", /*default=*/"29",
           "The past length the model was specialized at">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"16",
           "Positions per KV block">,
    Option<"maxTokens", "max-tokens-per-step", "int64_t", /*default=*/"256",
           "Largest token count of one step (a bounded size)">,
    Option<"maxSeqs", "max-seqs-per-step", "int64_t", /*default=*/"64",
           "Largest sequence count of one step (a bounded size)">,
    Option<"maxContext", "max-context", "int64_t", /*default=*/"2048",
           "Longest sequence; block tables have max-context / block-size entries">,
    Option<"maxBlocks", "max-kv-blocks", "int64_t", /*default=*/"1048576",
           "Largest KV pool, in blocks">,
    Option<"kvDtype", "kv-dtype", "std::string", /*default=*/"\"\"",
           "The pools' element type: f32, f16 (half the bytes per cached "
           "token) or int8 (a quarter, plus an f32 scale per slot and KV "
           "head); empty keeps the type of the model's past KV inputs">,
  ];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilNarrowWeights : Pass<"anvil-narrow-weights", "::mlir::ModuleOp"> {
  let summary = "Store matmul weights as 16-bit floats (bf16 or f16)";
  let description = [{
    Every `anvil.matmul` of f32 activations by a constant f32 matrix gets
    that matrix rounded to `dtype` (`bf16` or `f16`, round to nearest
    even; f16 saturates to infinity past 65504): the product keeps f32
    activations, an f32 result and f32 accumulation, and only the weight's
    storage narrows (half the bytes a decode step streams). The cpu kernels
    widen the weights as they load them (backends/cpu/kernels/
    matmul_panels.h). A weight that other ops also read (a tied token
    embedding) keeps its f32 constant for them. Batched right-hand sides
    (rank above 2) are left alone. The pass runs on the whole module (every
    function's matmuls), so that it can then free the f32 originals no
    function reads any more: an imported weight maps its slice of the
    model file, which would otherwise stay in the compiler's resident set
    beside its 16-bit copy. A constant marked `anvil.keep_float` (one the
    importer computed from quantization parameters, not a weight) stays
    f32.

    ```mlir
    // Before:
    %w = anvil.constant dense<...> : tensor<64x32xf32>
    %y = anvil.matmul %x, %w : (tensor<?x64xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
    // After (dtype=bf16):
    %w = anvil.constant dense<...> : tensor<64x32xbf16>
    %y = anvil.matmul %x, %w : (tensor<?x64xf32>, tensor<64x32xbf16>) -> tensor<?x32xf32>
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"bf16\"",
           "The weights' storage type: bf16 or f16">,
  ];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilQuantizeWeights : Pass<"anvil-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Quantize constant matmul weights to int8 or int4 (round to nearest)";
  let description = [{
    Every `anvil.matmul` whose right-hand side is a constant 2-D float
    weight (either orientation) gets the canonical quantized form that
    ONNX `MatMulNBits` imports to: `matmul {transpose_rhs}(x,
    dequantize(q, scale[, zero_point]))` with `q` stored `[N, K]`:

    - `int8`: `q` is `i8`, one symmetric scale per output channel
      (`scale = max|w| / 127`); with `asym`, `ui8` with a zero point per
      channel over `[min(w, 0), max(w, 0)]`.
    - `int4-g32`, `int4-g128`: groups of 32 or 128 along K (the last group
      may be shorter), two values per `ui8` byte, low nibble first:
      symmetric int4 (`scale = max|w| / 7`, `is_signed`), or with `asym`
      uint4 with a `ui8` zero point per group. The symmetric form's
      dequantize is marked `anvil.lhs_bf16`: the product may round its
      float activations to bf16 (the cpu target does on CPUs with
      AVX512-BF16, summing with `vdpbf16ps`), a rounding far below the
      weights' own; `float-lhs` leaves the mark off, so the activations
      stay float. An imported model's weights are not marked.
    - `w8a8`: the `int8` weights, and the activation quantized per token
      (`anvil.quantize_per_token`, then `anvil.dequantize` of its rows), so
      the product is an integer one.
    - `w4a8-g32`, `w4a8-g128`: the symmetric `int4-g32` / `int4-g128`
      weights with the activation quantized per token as for `w8a8`: the
      kernel sums integer products per group and scales each group once
      (ONNX Runtime's `MatMulNBits` with `accuracy_level` 4 computes
      alike).

    Scales are float32 whatever the weight's float type, and the product
    is float32 (the quantized kernel's): a float16 or bfloat16 matmul's
    activations are cast to float32 and its result cast back once.

    A weight the model quantized itself (`anvil.dequantize` of constants:
    ONNX Runtime's `MatMulNBits`, QDQ `DequantizeLinear`) keeps its values
    in every mode. With `w8a8` and `w4a8-*` the activations of a float32
    matmul of such a weight are quantized per token as above where the
    kernel takes that form: 4-bit values in groups along K of a multiple
    of 8 (zero points or not), 8-bit values per tensor or per output
    channel without zero points. `skip=lm_head` and name patterns apply to
    them as to float weights (names are the quantized initializer's);
    `embed` does not (it finds float tables only).

    A constant marked `anvil.keep_float` (the importer's float-zero-point
    correction for `MatMulNBits`, computed from quantization parameters)
    is not a weight and is never quantized.

    Values round to nearest (ties to even). `skip` keeps weights in float:
    `embed` (the vocabulary table the token ids gather from, and every
    matmul that reads that same constant: a tied LM head), `lm_head` (the
    matmul the logits come from, found by dataflow from the function's
    results), or glob patterns of initializer names.

    The pass runs on the whole module, function by function, and frees a
    float original's data as soon as no op reads it (an imported weight
    maps its slice of the model file): the compiler then holds one float
    weight at a time beside the quantized ones.

    ```mlir
    // Before:
    %w = anvil.constant dense<...> : tensor<64x256xf32>
    %y = anvil.matmul %x, %w : (tensor<1x?x64xf32>, tensor<64x256xf32>) -> tensor<1x?x256xf32>
    // After (mode=int4-g32):
    %q = anvil.constant dense<...> : tensor<256x32xui8>
    %s = anvil.constant dense<...> : tensor<256x2xf32>
    %d = anvil.dequantize %q, %s {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<256x32xui8>, tensor<256x2xf32>) -> tensor<256x64xf32>
    %y = anvil.matmul %x, %d {transpose_rhs = true} : (tensor<1x?x64xf32>, tensor<256x64xf32>) -> tensor<1x?x256xf32>
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"int8\"",
           "int8, int4-g32, int4-g128, w8a8, w4a8-g32 or w4a8-g128">,
    Option<"asym", "asym", "bool", /*default=*/"false",
           "Asymmetric (a zero point per channel or group) instead of symmetric">,
    ListOption<"skip", "skip", "std::string",
               "Weights kept in float: embed, lm_head, or glob patterns of initializer names">,
    Option<"floatLhs", "float-lhs", "bool", /*default=*/"false",
           "Leave symmetric int4 dequantizes unmarked (no anvil.lhs_bf16): their products keep float activations">,
  ];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilFuseRope : Pass<"anvil-fuse-rope", "::mlir::func::FuncOp"> {
  let summary = "Fold rotary embeddings into the paged attention and KV write that read them";
  let description = [{
    An `anvil.rope` whose rotated rows reach an `anvil.paged_attention`'s
    query or an `anvil.kv_write`'s rows only through a transpose that keeps
    the last dim and a reshape that keeps the last two (each read by
    nothing else), with tables that give each token one row broadcast over
    the heads, is removed: the reading op takes the tables, reshaped to
    `[tokens, rotary/2]`, as `rope(%cos, %sin)` and rotates each row itself
    (the attention as it loads a query row, the write before it stores a
    key row), with the same arithmetic, so the results are the same bits.
    The transposes around the rope then cancel (the canonicalizer folds
    them). Matched by dataflow only. anvilc runs it after `anvil-paged-kv`
    at -O2 and -O3 (`--no-fuse-rope` turns it off).

    ```mlir
    // Before:
    %t = anvil.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x8x16xf32>) -> tensor<1x8x?x16xf32>
    %r = anvil.rope %t, %cos, %sin : (tensor<1x8x?x16xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x8x?x16xf32>
    %u = anvil.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x?x16xf32>) -> tensor<1x?x8x16xf32>
    %q = anvil.reshape %u, %s3 : (tensor<1x?x8x16xf32>, tensor<3xi64>) -> tensor<?x8x16xf32>
    %o = anvil.paged_attention %q, %kp, %vp, %bt, %cl, %pos, %seq {scale = 2.500000e-01 : f32} : (...) -> tensor<?x8x16xf32>
    // After (the transposes cancel):
    %c = anvil.reshape %cos, %s2 : (tensor<1x1x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
    %s = anvil.reshape %sin, %s2 : (tensor<1x1x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
    %q = anvil.reshape %x, %s3 : (tensor<1x?x8x16xf32>, tensor<3xi64>) -> tensor<?x8x16xf32>
    %o = anvil.paged_attention %q, %kp, %vp, %bt, %cl, %pos, %seq rope(%c, %s) {scale = 2.500000e-01 : f32} : (...) -> tensor<?x8x16xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
  let statistics = [
    Statistic<"numFused", "fused", "Ropes folded into the op that reads them">
  ];
}

def AnvilFuseQdqConvs : Pass<"anvil-fuse-qdq-convs", "::mlir::func::FuncOp"> {
  let summary = "Run QDQ convolutions as int8 integer convolutions";
  let description = [{
    A QDQ model (onnxruntime's `quantize_static` default) writes a quantized
    convolution as a float `anvil.conv` of `anvil.dequantize`d operands.
    Where the input is an 8-bit tensor dequantized with one constant scale
    (and zero point), and the weight a constant int8 tensor dequantized with
    a constant scale per tensor or per output channel (axis 0) and no or
    all-zero zero points, every product is an exact integer times
    `sx * sw[m]`: the conv becomes `anvil.conv_integer` of the quantized
    input and weight, cast to f32, times one f32 factor per output channel
    (`sx * sw[m]`, rounded once), plus the bias. That is what ONNX
    Runtime's QDQ transformer runs (QLinearConv), and the cpu target runs
    the integer conv on int8 dot products (VNNI) without dequantizing the
    weight at run time. Not bit-identical to the float conv: the integer
    sum is exact where the float conv rounded every partial sum, then it is
    rounded once by the cast (above 2^24) and once by the factor. Groups of
    fewer than 4 outputs or 8 taps (depthwise) are left alone, as are 3-D
    and larger windows. Matched by dataflow only; runs at `-O2` and above.

    ```mlir
    // Before:
    %xd = anvil.dequantize %xq, %sx, %zx {bits = 8 : i64} : (tensor<1x16x8x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x16x8x8xf32>
    %wd = anvil.dequantize %wq, %sw {bits = 8 : i64} : (tensor<32x16x3x3xi8>, tensor<32xf32>) -> tensor<32x16x3x3xf32>
    %y = anvil.conv %xd, %wd, %b {...} : (...) -> tensor<1x32x8x8xf32>
    // After:
    %acc = anvil.conv_integer %xq, %wq, %zx {...} : (tensor<1x16x8x8xui8>, tensor<32x16x3x3xi8>, tensor<ui8>) -> tensor<1x32x8x8xi32>
    %f = anvil.cast %acc : (tensor<1x32x8x8xi32>) -> tensor<1x32x8x8xf32>
    %s = anvil.mul %f, %factors : (tensor<1x32x8x8xf32>, tensor<32x1x1xf32>) -> tensor<1x32x8x8xf32>
    %y = anvil.add %s, %b32x1x1 : (tensor<1x32x8x8xf32>, tensor<32x1x1xf32>) -> tensor<1x32x8x8xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

def AnvilMergeMatmuls : Pass<"anvil-merge-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Merge matmuls of one input by constant weights into one matmul";
  let description = [{
    Matmuls that read the same left-hand side (one SSA value) and whose
    right-hand sides are plain constant 2-D weights (`anvil.constant`; a
    weight made by `anvil.dequantize` is left alone) of one element type,
    one orientation (`transpose_rhs`), one K and one result type become one
    matmul by the weights concatenated along N, followed by one
    `anvil.slice` along the last axis per original result: the Q/K/V
    projections of an attention block, the gate and up projections of an
    MLP. Matched by dataflow only. Each output element is still one dot
    product over K of the same operands, so the results are the same bits.
    The concatenated weight is a resource blob and the original constants
    are erased. A weight that another op also reads (a tied embedding, a
    weight two matmuls share) is left alone: unmerged, the cpu target does
    not pack it in panels and its matmul runs another kernel (another
    summation, not the panel kernel's FMA chains), so its bits could
    change. The matmuls must share a block; the merged one goes where the
    first of them was. Constants marked `anvil.keep_float` are not merged
    (the merged constant would lose the mark).

    ```mlir
    // Before:
    %q = anvil.matmul %x, %wq {transpose_rhs = true} : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
    %k = anvil.matmul %x, %wk {transpose_rhs = true} : (tensor<?x64xf32>, tensor<16x64xf32>) -> tensor<?x16xf32>
    // After (%wqk: the rows of %wq, then those of %wk):
    %qk = anvil.matmul %x, %wqk {transpose_rhs = true} : (tensor<?x64xf32>, tensor<80x64xf32>) -> tensor<?x80xf32>
    %q = anvil.slice %qk, %c0, %c64, %axis, %step : (tensor<?x80xf32>, ...) -> tensor<?x64xf32>
    %k = anvil.slice %qk, %c64, %c80, %axis, %step : (tensor<?x80xf32>, ...) -> tensor<?x16xf32>
    ```
  }];
  let dependentDialects = ["::anvil::AnvilDialect"];
}

#endif // ANVIL_TRANSFORMS_PASSES_TD
