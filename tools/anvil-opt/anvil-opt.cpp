//===- anvil-opt.cpp - run Anvil passes over .mlir files ------------------===//
//
// mlir-opt for Anvil: registers only Anvil's dialects and passes plus the
// upstream passes its pipelines use.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/codegen/CpuTarget.h"
#include "compiler/Lowering/Passes.h"
#include "compiler/Pipeline/Pipelines.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilDialect.h"
#include "dialects/Kernel/KernelOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  // The targets anvil-pack-weights can pack for, one line each.
  anvil::backend::cpu::registerCpuTarget();
  mlir::DialectRegistry registry;
  registry.insert<anvil::AnvilDialect, anvil::kernel::KernelDialect,
                  mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect>();
  anvil::registerAnvilPasses();
  anvil::registerLoweringPasses();
  anvil::registerPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Anvil optimizer driver\n", registry));
}
