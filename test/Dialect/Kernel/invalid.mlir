// RUN: anvil-opt %s -split-input-file -verify-diagnostics

func.func @dynamic_alloc() {
  // expected-error @+1 {{needs a statically shaped buffer, got 'memref<?xf32>'}}
  %a = kernel.alloc : memref<?xf32>
  return
}

// -----

func.func @negative_offset() {
  // expected-error @+1 {{offset must not be negative}}
  %b = kernel.buffer arena[-64] : memref<4xf32>
  return
}

// -----

func.func @weight_type() {
  // expected-error @+1 {{value of type 'tensor<4xf32>' does not match the buffer 'memref<8xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<4xf32> : memref<8xf32>
  return
}

// -----

func.func @view_count(%x: memref<4x8xf32>) {
  // expected-error @+1 {{views 'memref<4x8xf32>' as 'memref<30xf32>', which has another element count}}
  %v = kernel.view %x : memref<4x8xf32> to memref<30xf32>
  return
}

// -----

func.func @view_type(%x: memref<4xf32>) {
  // expected-error @+1 {{cannot change the element type}}
  %v = kernel.view %x : memref<4xf32> to memref<4xi32>
  return
}

// -----

func.func @no_broadcast(%x: memref<3xf32>, %y: memref<4x8xf32>) {
  // expected-error @+1 {{input #0 of type 'memref<3xf32>' does not broadcast to 'memref<4x8xf32>'}}
  kernel.elementwise ins(%x : memref<3xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%p: f32):
    kernel.yield %p : f32
  }
  return
}

// -----

func.func @arg_count(%x: memref<8xf32>, %y: memref<8xf32>) {
  // expected-error @+1 {{region takes 0 scalars for 1 inputs}}
  kernel.elementwise ins(%x : memref<8xf32>) outs(%y : memref<8xf32>) {
    %c = arith.constant 0.0 : f32
    kernel.yield %c : f32
  }
  return
}

// -----

func.func @arg_type(%x: memref<8xi32>, %y: memref<8xf32>) {
  // expected-error @+1 {{region argument #0 must be 'i32'}}
  kernel.elementwise ins(%x : memref<8xi32>) outs(%y : memref<8xf32>) {
  ^bb0(%p: f32):
    kernel.yield %p : f32
  }
  return
}

// -----

func.func @yield_type(%x: memref<8xf32>, %y: memref<8xi1>) {
  // expected-error @+1 {{region yields 'f32' for a buffer of 'i1'}}
  kernel.elementwise ins(%x : memref<8xf32>) outs(%y : memref<8xi1>) {
  ^bb0(%p: f32):
    kernel.yield %p : f32
  }
  return
}

// -----

func.func @strided(%x: memref<4x8xf32, strided<[16, 1]>>) {
  // expected-error @+1 {{needs a row-major buffer}}
  %v = kernel.view %x : memref<4x8xf32, strided<[16, 1]>> to memref<32xf32>
  return
}

// -----

func.func @weight_layout_unknown() {
  // expected-error @+1 {{'kernel.weight' op has the unknown layout 'nk' (known: 'kn')}}
  %w = kernel.weight dense<1.0> : tensor<2x3xf32> {layout = "nk"} : memref<3x2xf32>
  return
}

// -----

func.func @weight_layout_shape() {
  // expected-error @+1 {{'kernel.weight' op value of type 'tensor<2x3xf32>' does not match the buffer 'memref<2x3xf32>' in layout 'kn'}}
  %w = kernel.weight dense<1.0> : tensor<2x3xf32> {layout = "kn"} : memref<2x3xf32>
  return
}

// -----

func.func @weight_layout_rank() {
  // expected-error @+1 {{'kernel.weight' op layout 'kn' needs a rank-2 value, not 'tensor<6xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<6xf32> {layout = "kn"} : memref<6xf32>
  return
}

// -----

func.func @sub_byte() {
  // expected-error @+1 {{has sub-byte elements, which buffers hold only packed two to a ui8: 'memref<8xi4>'}}
  %a = kernel.alloc : memref<8xi4>
  return
}
