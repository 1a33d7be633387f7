//===- ConvolutionParts.h - a Conv node's window, shared by the importers
//---===//
//
// Used by NeuralNetOps.cpp (Conv) and QuantizationOps.cpp (ConvInteger,
// QLinearConv), whose nodes carry the same window attributes.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_CONVOLUTIONPARTS_H
#define ANVIL_COMPILER_IMPORT_ONNX_CONVOLUTIONPARTS_H

#include "compiler/Import/Onnx/OnnxNodeContext.h"

namespace anvil::onnx_import {

/// A convolution's window as anvil.conv takes it: one stride and one
/// dilation per spatial dim, the begin pads then the end pads.
struct ConvWindow {
  llvm::SmallVector<int64_t> strides, pads, dilations;
};

/// The window of the node's convolution of `x` [N, C, spatial...] by a
/// weight of type `weight` [M, C/group, kernel...]: its strides, dilations
/// and pads (auto_pad resolved against x's shape); a kernel_shape that
/// disagrees with the weight, or attributes of the wrong length, are
/// errors reported on the node.
mlir::FailureOr<ConvWindow> convWindow(NodeContext &ctx, mlir::Value x,
                                       mlir::RankedTensorType weight);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_CONVOLUTIONPARTS_H
