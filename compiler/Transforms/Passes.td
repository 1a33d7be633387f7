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

#endif // ANVIL_TRANSFORMS_PASSES_TD
