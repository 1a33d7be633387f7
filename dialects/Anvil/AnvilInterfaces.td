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

def Anvil_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::anvil";
  let description = [{
    An op whose every result element is a function of the matching
    (numpy-broadcast) element of each data operand alone. The op states
    that function once, as a payload (`ElementwisePayload.h`): the
    lowering builds it into `kernel.elementwise` bodies, the folder
    evaluates it on constants, and C-family emitters print it. Declared
    through `Anvil_ElementwiseOp` in AnvilOps.td.
  }];
  let methods = [
    InterfaceMethod<
      [{Builds one result element with `builder` (arith and math ops) from
        one scalar per data operand; returns null after builder.fail() when
        the element type has no scalar form.}],
      "::mlir::Value", "buildScalar",
      (ins "::anvil::ScalarBuilder &":$builder)>,
    InterfaceMethod<
      [{The number of leading operands read per element; the rest (such as
        expand's target shape) are not.}],
      "unsigned", "getNumDataOperands", (ins), [{}],
      [{ return $_op->getNumOperands(); }]>
  ];
}

#endif // ANVIL_INTERFACES_TD
