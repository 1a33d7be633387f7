//===- AnvilInterfaces.td - interfaces of the anvil dialect -*- tablegen -*-===//

#ifndef ANVIL_INTERFACES_TD
#define ANVIL_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Anvil_InferShapeOpInterface : OpInterface<"InferShapeOpInterface"> {
  let cppNamespace = "::anvil";
  let description = [{
    Computes an op's result types from its operand types and, where the op's
    meaning depends on them, the values of constant operands (a reshape's
    target shape, a slice's bounds). Dimensions that cannot be known are
    dynamic. The importer calls it on every op it creates and
    `--anvil-infer-shapes` calls it again after binding or folding made more
    shapes static. Returns failure, with a diagnostic on the op, when the
    operand shapes cannot go together.
  }];
  let methods = [
    InterfaceMethod<
      "Fills `resultTypes` with one type per result.",
      "::mlir::LogicalResult", "inferResultTypes",
      (ins "::llvm::SmallVectorImpl<::mlir::Type> &":$resultTypes)>
  ];
}

#endif // ANVIL_INTERFACES_TD
