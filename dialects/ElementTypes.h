//===- ElementTypes.h - element types and dtypes.def ------------*- C++ -*-===//
//
// The compiler's view of runtime/include/anvil/dtypes.def: every place that
// maps an MLIR element type to a name, a size, a C type or an ONNX number
// looks up its row here instead of keeping its own switch. Header-only, so
// the dialects, the importer, the driver and the backends share it without
// a new link dependency.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ELEMENTTYPES_H
#define ANVIL_DIALECTS_ELEMENTTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace anvil {

/// One row of dtypes.def.
struct DType {
  const char *id;      // "F32": ANVIL_DTYPE_F32
  int value;           // the anvil_dtype number
  const char *name;    // "f32"
  int bits;            // 4 for packed sub-byte types
  char kind;           // 'F', 'S', 'U' or 'B'
  const char *storage; // "float"; "uint8_t" for a pair of 4-bit values
  const char *npy;     // "<f4", "" where numpy has none
  int onnx;            // TensorProto.DataType, 0 if none

  bool isPacked() const { return bits < 8; }
  bool isFloat8() const { return kind == 'F' && bits == 8; }
};

/// Every row, in table order.
inline llvm::ArrayRef<DType> dtypeTable() {
  static const DType table[] = {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  {#ID, VALUE, NAME, BITS, #KIND[0], #STORAGE, NPY, ONNX},
#include "runtime/include/anvil/dtypes.def"
  };
  return table;
}

/// The row with TensorProto.DataType `onnx`, or null.
inline const DType *dtypeFromOnnx(int onnx) {
  for (const DType &row : dtypeTable())
    if (onnx != 0 && row.onnx == onnx)
      return &row;
  return nullptr;
}

/// The row of an MLIR element type, or null when the table has none.
/// Integers: `i1` is bool, signless and signed are the S rows, `ui` the U
/// rows; `i4`/`ui4` name the 4-bit rows (only ever a logical element type:
/// their values are stored packed in `ui8`).
inline const DType *dtypeOf(mlir::Type type) {
  llvm::StringRef id;
  if (type.isF32())
    id = "F32";
  else if (type.isF16())
    id = "F16";
  else if (type.isBF16())
    id = "BF16";
  else if (type.isF64())
    id = "F64";
  else if (type.isFloat8E4M3FN())
    id = "F8E4M3FN";
  else if (type.isFloat8E5M2())
    id = "F8E5M2";
  else if (auto integer = type.dyn_cast<mlir::IntegerType>()) {
    int bits = integer.getWidth();
    char kind = bits == 1 ? 'B' : integer.isUnsigned() ? 'U' : 'S';
    for (const DType &row : dtypeTable())
      if (row.kind == kind && (kind == 'B' || row.bits == bits))
        return &row;
    return nullptr;
  } else {
    return nullptr;
  }
  for (const DType &row : dtypeTable())
    if (id == row.id)
      return &row;
  return nullptr;
}

/// The MLIR element type of a row: the logical one (`i4` for int4), or
/// null where MLIR 16 has none (the FNUZ float8 types).
inline mlir::Type mlirTypeOf(mlir::MLIRContext *context, const DType &row) {
  llvm::StringRef id = row.id;
  switch (row.kind) {
  case 'B':
    return mlir::IntegerType::get(context, 1);
  case 'S':
    return mlir::IntegerType::get(context, row.bits);
  case 'U':
    return mlir::IntegerType::get(context, row.bits,
                                  mlir::IntegerType::Unsigned);
  default:
    break;
  }
  if (id == "F32")
    return mlir::Float32Type::get(context);
  if (id == "F64")
    return mlir::Float64Type::get(context);
  if (id == "F16")
    return mlir::Float16Type::get(context);
  if (id == "BF16")
    return mlir::BFloat16Type::get(context);
  if (id == "F8E4M3FN")
    return mlir::Float8E4M3FNType::get(context);
  if (id == "F8E5M2")
    return mlir::Float8E5M2Type::get(context);
  return {};
}

/// `type` with integers made signless (ui8 -> i8); other types unchanged.
/// Scalars in elementwise bodies are signless (`arith` wants them so); the
/// tensor's element type keeps the sign.
inline mlir::Type signlessType(mlir::Type type) {
  if (auto integer = type.dyn_cast<mlir::IntegerType>();
      integer && !integer.isSignless())
    return mlir::IntegerType::get(type.getContext(), integer.getWidth());
  return type;
}

/// Bits per element: the table's, else the type's own width.
inline int64_t elementBits(mlir::Type type) {
  if (const DType *row = dtypeOf(type))
    return row->bits;
  return type.getIntOrFloatBitWidth();
}

} // namespace anvil

#endif // ANVIL_DIALECTS_ELEMENTTYPES_H
