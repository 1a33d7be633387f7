// RUN: anvil-opt %s -cse | FileCheck %s
// anvil ops are Pure, so the -O1+ pipelines' CSE merges repeated
// computations (exporters repeat shape chains and rotary tables per layer).

// CHECK-LABEL: func.func @repeated
// CHECK-COUNT-1: anvil.shape_of
// CHECK-COUNT-1: anvil.cos
// CHECK-NOT: anvil.shape_of
// CHECK-NOT: anvil.cos
func.func @repeated(%x: tensor<?x8xf32>) -> (tensor<2xi64>, tensor<2xi64>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %a = anvil.shape_of %x : (tensor<?x8xf32>) -> tensor<2xi64>
  %b = anvil.shape_of %x : (tensor<?x8xf32>) -> tensor<2xi64>
  %c = anvil.cos %x : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %d = anvil.cos %x : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %a, %b, %c, %d : tensor<2xi64>, tensor<2xi64>, tensor<?x8xf32>, tensor<?x8xf32>
}
