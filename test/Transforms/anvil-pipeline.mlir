// RUN: anvil-opt %s -anvil-pipeline-O0 | FileCheck %s --check-prefix=O0
// RUN: anvil-opt %s -anvil-pipeline-O1 | FileCheck %s --check-prefix=OPT
// RUN: anvil-opt %s -anvil-pipeline-O2 | FileCheck %s --check-prefix=OPT
// RUN: anvil-opt %s -anvil-pipeline-O3 | FileCheck %s --check-prefix=OPT
// The pipelines anvilc runs are registered by name, so a run can be replayed.

// O0-LABEL: func.func @main
// O0: anvil.shape_of
// O0: anvil.reshape {{.*}} -> tensor<?xf32>
// OPT-LABEL: func.func @main
// OPT-SAME: -> tensor<24xf32>
// OPT-NOT: anvil.shape_of
// OPT: anvil.reshape {{.*}} -> tensor<24xf32>
func.func @main(%x: tensor<2x3x4xf32>) -> tensor<?xf32> {
  %s = anvil.shape_of %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %p = anvil.reduce %s {axes = array<i64: 0>, keepdims = true, kind = #anvil<reduce prod>} : (tensor<3xi64>) -> tensor<1xi64>
  %r = anvil.reshape %x, %p : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}
