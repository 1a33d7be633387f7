//===- CScalarPrinter.cpp - arith/math scalars as C-family code -----------===//

#include "backends/common/CScalarPrinter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;

namespace anvil::backend {

std::string cFloatLiteral(double value, StringRef type) {
  if (std::isnan(value))
    return llvm::formatv("static_cast<{0}>(std::numeric_limits<double>::"
                         "quiet_NaN())",
                         type);
  if (std::isinf(value))
    return llvm::formatv("static_cast<{0}>({1}std::numeric_limits<double>::"
                         "infinity())",
                         type, value < 0 ? "-" : "");
  return llvm::formatv("static_cast<{0}>({1})", type,
                       llvm::formatv("{0:e16}", value).str());
}

std::string CScalarPrinter::unsignedType(Type type) const {
  if (type.isInteger(1))
    return "bool";
  return dialect.typeName(type, /*forceUnsigned=*/true);
}

LogicalResult CScalarPrinter::print(Operation *op) {
  if (op->getNumResults() != 1)
    return op->emitOpError("cannot be printed as C-family code");
  Value result = op->getResult(0);
  std::string type = typeName(result.getType());
  if (type.empty())
    return op->emitOpError("has a result type the target cannot hold");
  auto operand = [&](unsigned i) { return v(op->getOperand(i)); };
  auto binary = [&](StringRef symbol) {
    return "(" + operand(0) + " " + symbol.str() + " " + operand(1) + ")";
  };
  auto call = [&](StringRef fn) {
    std::string text = fn.str() + "(";
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      text += (i ? ", " : "") + operand(i);
    return text + ")";
  };
  // The dialect's function for an f32 result where it has one (floatExp,
  // floatErf, floatTanh), else libm's.
  auto floatCall = [&](const std::string &f32, StringRef libm) {
    return call(result.getType().isF32() && !f32.empty() ? StringRef(f32)
                                                         : libm);
  };
  auto unsignedCall = [&](StringRef fn) {
    std::string ut = unsignedType(op->getOperand(0).getType());
    return fn.str() + "<" + ut + ">(" + u(op->getOperand(0)) + ", " +
           u(op->getOperand(1)) + ")";
  };
  std::string expr;
  bool supported = true;
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](arith::ConstantOp c) {
        Attribute value = c.getValue();
        if (auto f = value.dyn_cast<FloatAttr>())
          expr = cFloatLiteral(f.getValueAsDouble(), type);
        else if (auto i = value.dyn_cast<IntegerAttr>())
          expr = result.getType().isInteger(1)
                     ? (i.getValue().isZero() ? "false" : "true")
                     : "static_cast<" + type + ">(INT64_C(" +
                           std::to_string(i.getValue().getSExtValue()) + "))";
        else
          supported = false;
      })
      .Case<arith::AddFOp, arith::AddIOp>([&](auto) { expr = binary("+"); })
      .Case<arith::SubFOp, arith::SubIOp>([&](auto) { expr = binary("-"); })
      .Case<arith::MulFOp, arith::MulIOp>([&](auto) { expr = binary("*"); })
      .Case([&](arith::DivFOp) { expr = binary("/"); })
      .Case([&](arith::DivSIOp) {
        expr = call(dialect.helperPrefix + "div_int<" + type + ">");
      })
      .Case([&](arith::DivUIOp) {
        expr = unsignedCall(dialect.helperPrefix + "div_int");
      })
      .Case([&](arith::RemFOp) { expr = call("std::fmod"); })
      .Case([&](arith::RemSIOp) {
        expr = call(dialect.helperPrefix + "rem_int<" + type + ">");
      })
      .Case([&](arith::RemUIOp) {
        expr = unsignedCall(dialect.helperPrefix + "rem_int");
      })
      .Case([&](arith::NegFOp) { expr = "(-" + operand(0) + ")"; })
      .Case<arith::MaxFOp, arith::MaxSIOp>([&](auto) {
        expr = call(dialect.helperPrefix + "max_nan<" + type + ">");
      })
      .Case<arith::MinFOp, arith::MinSIOp>([&](auto) {
        expr = call(dialect.helperPrefix + "min_nan<" + type + ">");
      })
      .Case([&](arith::MaxUIOp) {
        expr = unsignedCall(dialect.helperPrefix + "max_nan");
      })
      .Case([&](arith::MinUIOp) {
        expr = unsignedCall(dialect.helperPrefix + "min_nan");
      })
      .Case<arith::ShLIOp, arith::ShRUIOp>([&](auto) {
        // Shifts by the width or more are 0 (C leaves them undefined).
        std::string ut = unsignedType(result.getType());
        std::string width =
            std::to_string(result.getType().getIntOrFloatBitWidth());
        std::string symbol = isa<arith::ShLIOp>(op) ? " << " : " >> ";
        expr = "(" + u(op->getOperand(1)) + " < " + width + "u ? static_cast<" +
               ut + ">(" + u(op->getOperand(0)) + symbol +
               u(op->getOperand(1)) + ") : static_cast<" + ut + ">(0))";
      })
      .Case([&](arith::AndIOp) { expr = binary("&"); })
      .Case([&](arith::OrIOp) { expr = binary("|"); })
      .Case([&](arith::XOrIOp) { expr = binary("^"); })
      .Case([&](arith::CmpFOp cmp) {
        switch (cmp.getPredicate()) {
        case arith::CmpFPredicate::OEQ:
          expr = binary("==");
          break;
        case arith::CmpFPredicate::UNE:
          expr = binary("!=");
          break;
        case arith::CmpFPredicate::OLT:
          expr = binary("<");
          break;
        case arith::CmpFPredicate::OLE:
          expr = binary("<=");
          break;
        case arith::CmpFPredicate::OGT:
          expr = binary(">");
          break;
        case arith::CmpFPredicate::OGE:
          expr = binary(">=");
          break;
        case arith::CmpFPredicate::UNO:
          expr = "(" + operand(0) + " != " + operand(0) + " || " + operand(1) +
                 " != " + operand(1) + ")";
          break;
        default:
          supported = false;
        }
      })
      .Case([&](arith::CmpIOp cmp) {
        Value l = cmp.getLhs(), r = cmp.getRhs();
        auto ucmp = [&](StringRef s) {
          return "(" + u(l) + " " + s.str() + " " + u(r) + ")";
        };
        switch (cmp.getPredicate()) {
        case arith::CmpIPredicate::eq:
          expr = binary("==");
          break;
        case arith::CmpIPredicate::ne:
          expr = binary("!=");
          break;
        case arith::CmpIPredicate::slt:
          expr = binary("<");
          break;
        case arith::CmpIPredicate::sle:
          expr = binary("<=");
          break;
        case arith::CmpIPredicate::sgt:
          expr = binary(">");
          break;
        case arith::CmpIPredicate::sge:
          expr = binary(">=");
          break;
        case arith::CmpIPredicate::ult:
          expr = ucmp("<");
          break;
        case arith::CmpIPredicate::ule:
          expr = ucmp("<=");
          break;
        case arith::CmpIPredicate::ugt:
          expr = ucmp(">");
          break;
        case arith::CmpIPredicate::uge:
          expr = ucmp(">=");
          break;
        }
      })
      .Case([&](arith::SelectOp) {
        expr = "(" + operand(0) + " ? " + operand(1) + " : " + operand(2) + ")";
      })
      .Case<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp, arith::ExtSIOp,
            arith::TruncIOp, arith::BitcastOp>([&](auto) { expr = operand(0); })
      .Case<arith::UIToFPOp, arith::ExtUIOp>(
          [&](auto) { expr = u(op->getOperand(0)); })
      .Case([&](arith::FPToSIOp) {
        expr = dialect.helperPrefix + "float_to_int<" + type + ">(" +
               operand(0) + ")";
      })
      .Case([&](arith::FPToUIOp) {
        expr = dialect.helperPrefix + "float_to_int<" +
               unsignedType(result.getType()) + ">(" + operand(0) + ")";
      })
      .Case([&](math::AbsFOp) { expr = call("std::fabs"); })
      .Case([&](math::AbsIOp) {
        expr = "(" + operand(0) + " < 0 ? -" + operand(0) + " : " + operand(0) +
               ")";
      })
      .Case([&](math::SqrtOp) { expr = call("std::sqrt"); })
      .Case([&](math::RsqrtOp) {
        expr = "(" + type + "(1) / std::sqrt(" + operand(0) + "))";
      })
      .Case(
          [&](math::ExpOp) { expr = floatCall(dialect.floatExp, "std::exp"); })
      .Case([&](math::LogOp) { expr = call("std::log"); })
      .Case([&](math::TanhOp) {
        expr = floatCall(dialect.floatTanh, "std::tanh");
      })
      .Case(
          [&](math::ErfOp) { expr = floatCall(dialect.floatErf, "std::erf"); })
      .Case([&](math::SinOp) { expr = call("std::sin"); })
      .Case([&](math::CosOp) { expr = call("std::cos"); })
      .Case([&](math::AtanOp) { expr = call("std::atan"); })
      .Case([&](math::Atan2Op) { expr = call("std::atan2"); })
      .Case([&](math::Log1pOp) { expr = call("std::log1p"); })
      .Case([&](math::FloorOp) { expr = call("std::floor"); })
      .Case([&](math::CeilOp) { expr = call("std::ceil"); })
      .Case([&](math::RoundEvenOp) { expr = call("std::nearbyint"); })
      .Case([&](math::PowFOp) { expr = call("std::pow"); })
      .Case([&](math::IPowIOp) {
        expr = call(dialect.helperPrefix + "ipow_int<" + type + ">");
      })
      .Default([&](Operation *) { supported = false; });
  if (!supported)
    return op->emitOpError("cannot be printed as C-family code");
  std::string name = "t" + std::to_string(next++);
  names[result] = name;
  os << indent << "const " << type << " " << name << " = static_cast<" << type
     << ">(" << expr << ");\n";
  return success();
}

} // namespace anvil::backend
