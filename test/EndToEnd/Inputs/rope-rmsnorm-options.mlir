// anvil.rope with rotary_dim (partial rotation) and anvil.rms_norm with
// unit_offset, compiled and run by rope-rmsnorm-options.test.
func.func @main(%x: tensor<2x3x5x12xf32> {anvil.name = "x"},
                %cos: tensor<1x1x5x4xf32> {anvil.name = "cos"},
                %sin: tensor<1x1x5x4xf32> {anvil.name = "sin"},
                %h: tensor<2x3x12xf32> {anvil.name = "h"},
                %w: tensor<12xf32> {anvil.name = "w"})
    -> (tensor<2x3x5x12xf32> {anvil.name = "rope_half"},
        tensor<2x3x5x12xf32> {anvil.name = "rope_pairs"},
        tensor<2x3x12xf32> {anvil.name = "norm"}) {
  %a = anvil.rope %x, %cos, %sin {rotary_dim = 8 : i64} : (tensor<2x3x5x12xf32>, tensor<1x1x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<2x3x5x12xf32>
  %b = anvil.rope %x, %cos, %sin {interleaved = true, rotary_dim = 8 : i64} : (tensor<2x3x5x12xf32>, tensor<1x1x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<2x3x5x12xf32>
  %n = anvil.rms_norm %h, %w {epsilon = 1.0e-06 : f32, unit_offset = true} : (tensor<2x3x12xf32>, tensor<12xf32>) -> tensor<2x3x12xf32>
  return %a, %b, %n : tensor<2x3x5x12xf32>, tensor<2x3x5x12xf32>, tensor<2x3x12xf32>
}
