//===- AnvilEnums.td - enum attributes of the anvil dialect -*- tablegen -*-===//

#ifndef ANVIL_ENUMS_TD
#define ANVIL_ENUMS_TD

include "dialects/Anvil/AnvilDialect.td"
include "mlir/IR/EnumAttr.td"

def Anvil_ComparePredicate : I32EnumAttr<"ComparePredicate",
    "elementwise comparison", [
      I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
      I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
      I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::anvil";
  let genSpecializedAttr = 0;
}
def Anvil_ComparePredicateAttr
    : EnumAttr<Anvil_Dialect, Anvil_ComparePredicate, "predicate">;

def Anvil_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
      I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
      I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>,
      I32EnumAttrCase<"prod", 4>, I32EnumAttrCase<"l1", 5>,
      I32EnumAttrCase<"l2", 6>, I32EnumAttrCase<"sum_square", 7>,
      I32EnumAttrCase<"log_sum_exp", 8>]> {
  let cppNamespace = "::anvil";
  let genSpecializedAttr = 0;
}
def Anvil_ReduceKindAttr : EnumAttr<Anvil_Dialect, Anvil_ReduceKind, "reduce">;

def Anvil_PoolKind : I32EnumAttr<"PoolKind", "pooling", [
      I32EnumAttrCase<"max", 0>, I32EnumAttrCase<"avg", 1>]> {
  let cppNamespace = "::anvil";
  let genSpecializedAttr = 0;
}
def Anvil_PoolKindAttr : EnumAttr<Anvil_Dialect, Anvil_PoolKind, "pool">;

def Anvil_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "GELU approximation", [
      I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"tanh", 1>]> {
  let cppNamespace = "::anvil";
  let genSpecializedAttr = 0;
}
def Anvil_GeluApproximationAttr
    : EnumAttr<Anvil_Dialect, Anvil_GeluApproximation, "gelu_approximation">;

#endif // ANVIL_ENUMS_TD
