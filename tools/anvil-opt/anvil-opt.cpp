//===- anvil-opt.cpp - run Anvil passes over .mlir files ------------------===//
//
// mlir-opt for Anvil: registers only Anvil's dialects and passes plus the
// upstream passes its pipelines use.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipeline/Pipelines.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<anvil::AnvilDialect, mlir::func::FuncDialect>();
  anvil::registerAnvilPasses();
  anvil::registerPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Anvil optimizer driver\n", registry));
}
