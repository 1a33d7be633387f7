// RUN: anvil-opt %s -split-input-file -canonicalize | FileCheck %s
// Elementwise ops fold by evaluating their ODS payload with the meaning the
// kernels give each arith/math op (dialects/Anvil/ElementwiseFolding.cpp).
// Expected values are worked out by hand from the ONNX operator definitions
// and the kernel library's stated semantics (backends/common/CScalarPrinter.h).

// Shifts by the bit width or more give 0.
// CHECK-LABEL: func.func @shift_left
// CHECK-NEXT: anvil.constant dense<[2, 0, 0, 12]> : tensor<4xui8>
func.func @shift_left() -> tensor<4xui8> {
  %a = anvil.constant dense<[1, 128, 255, 3]> : tensor<4xui8>
  %b = anvil.constant dense<[1, 1, 8, 2]> : tensor<4xui8>
  %r = anvil.bit_shift %a, %b {left = true} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %r : tensor<4xui8>
}

// -----

// CHECK-LABEL: func.func @shift_right
// CHECK-NEXT: anvil.constant dense<[1, 0]> : tensor<2xui16>
func.func @shift_right() -> tensor<2xui16> {
  %a = anvil.constant dense<[256, 65535]> : tensor<2xui16>
  %b = anvil.constant dense<[8, 16]> : tensor<2xui16>
  %r = anvil.bit_shift %a, %b {left = false} : (tensor<2xui16>, tensor<2xui16>) -> tensor<2xui16>
  return %r : tensor<2xui16>
}

// -----

// Max propagates NaN from either side, as the kernels' max_nan (and ONNX
// Runtime) do; std::fmax would not.
// CHECK-LABEL: func.func @max_nan
// CHECK-NEXT: anvil.constant dense<[0x7FC00000, 0x7FC00000, -2.000000e+00]> : tensor<3xf32>
func.func @max_nan() -> tensor<3xf32> {
  %a = anvil.constant dense<[0x7FC00000, 1.0, -2.0]> : tensor<3xf32>
  %b = anvil.constant dense<[0.0, 0x7FC00000, -3.0]> : tensor<3xf32>
  %r = anvil.max %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

// Integer division truncates; x / 0 is 0 and x / -1 negates (div_int).
// CHECK-LABEL: func.func @div_int
// CHECK-NEXT: anvil.constant dense<[0, -3, -5]> : tensor<3xi32>
func.func @div_int() -> tensor<3xi32> {
  %a = anvil.constant dense<[7, -7, 5]> : tensor<3xi32>
  %b = anvil.constant dense<[0, 2, -1]> : tensor<3xi32>
  %r = anvil.div %a, %b : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

// ONNX Mod without fmod: the remainder takes the divisor's sign.
// CHECK-LABEL: func.func @mod_python
// CHECK-NEXT: anvil.constant dense<[2, -2]> : tensor<2xi64>
func.func @mod_python() -> tensor<2xi64> {
  %a = anvil.constant dense<[-7, 7]> : tensor<2xi64>
  %b = anvil.constant dense<[3, -3]> : tensor<2xi64>
  %r = anvil.mod %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

// -----

// Float to int truncates toward zero; out of range and NaN give the
// minimum (float_to_int, what x86 gives).
// CHECK-LABEL: func.func @cast_out_of_range
// CHECK-NEXT: anvil.constant dense<[-128, -1, -128]> : tensor<3xi8>
func.func @cast_out_of_range() -> tensor<3xi8> {
  %a = anvil.constant dense<[300.0, -1.5, 0x7FC00000]> : tensor<3xf32>
  %r = anvil.cast %a : (tensor<3xf32>) -> tensor<3xi8>
  return %r : tensor<3xi8>
}

// -----

// Results are rounded to their type: atan(1) = pi/4 as the nearest f32.
// CHECK-LABEL: func.func @rounded_to_type
// CHECK-DAG: anvil.constant dense<0.785398185> : tensor<f32>
// CHECK-DAG: anvil.constant dense<5.000000e-01> : tensor<f16>
func.func @rounded_to_type() -> (tensor<f32>, tensor<f16>) {
  %one = anvil.constant dense<1.0> : tensor<f32>
  %r = anvil.atan %one : (tensor<f32>) -> tensor<f32>
  %zero = anvil.constant dense<0.0> : tensor<f16>
  %s = anvil.sigmoid %zero : (tensor<f16>) -> tensor<f16>
  return %r, %s : tensor<f32>, tensor<f16>
}

// -----

// A right operand that is the op's identity folds away; a left one does not
// (x - 0 is x, 0 - x is not).
// CHECK-LABEL: func.func @rhs_identity
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK-NEXT: %[[Z:.*]] = anvil.constant dense<0.000000e+00>
// CHECK-NEXT: %[[N:.*]] = anvil.sub %[[Z]], %[[X]]
// CHECK-NEXT: return %[[X]], %[[N]]
func.func @rhs_identity(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %zero = anvil.constant dense<0.0> : tensor<f32>
  %a = anvil.sub %x, %zero : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %b = anvil.sub %zero, %x : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  return %a, %b : tensor<3xf32>, tensor<3xf32>
}
