//===- ElementTypesTest.cpp - MLIR types, ONNX numbers and dtypes.def -----===//
//
// Expected rows are the ONNX TensorProto.DataType numbers and the runtime's
// dtype names, written out by hand from onnx.proto (1.16) and anvil.h.
//
//===----------------------------------------------------------------------===//

#include "dialects/ElementTypes.h"
#include "compiler/Import/Onnx/OnnxTensors.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace anvil;
using namespace mlir;

namespace {

TEST(ElementTypes, EveryRowRoundTrips) {
  MLIRContext context;
  int withType = 0;
  for (const DType &row : dtypeTable()) {
    Type type = mlirTypeOf(&context, row);
    if (!type) // MLIR 16 has no FNUZ float8 types
      continue;
    ++withType;
    const DType *back = dtypeOf(type);
    ASSERT_NE(back, nullptr) << row.name;
    EXPECT_STREQ(back->name, row.name);
    EXPECT_EQ(elementBits(type), row.bits) << row.name;
  }
  EXPECT_EQ(withType, 17); // 19 rows less the two FNUZ float8 types
}

TEST(ElementTypes, Rows) {
  MLIRContext context;
  Builder b(&context);
  EXPECT_STREQ(dtypeOf(b.getF32Type())->name, "f32");
  EXPECT_STREQ(dtypeOf(b.getBF16Type())->name, "bf16");
  EXPECT_STREQ(dtypeOf(b.getI1Type())->name, "bool");
  EXPECT_EQ(dtypeOf(b.getI1Type())->bits, 8); // one byte per bool
  EXPECT_STREQ(dtypeOf(b.getIntegerType(8))->storage, "int8_t");
  EXPECT_STREQ(dtypeOf(b.getIntegerType(8, /*isSigned=*/true))->name, "i8");
  EXPECT_STREQ(dtypeOf(b.getIntegerType(16, false))->name, "u16");
  const DType *u4 = dtypeOf(b.getIntegerType(4, false));
  ASSERT_NE(u4, nullptr);
  EXPECT_STREQ(u4->name, "u4");
  EXPECT_TRUE(u4->isPacked());
  EXPECT_EQ(u4->onnx, 21);
  EXPECT_EQ(dtypeOf(b.getIntegerType(4))->onnx, 22);
  EXPECT_EQ(dtypeOf(b.getIntegerType(3)), nullptr);
  EXPECT_EQ(dtypeOf(b.getIndexType()), nullptr);
  EXPECT_EQ(elementBits(b.getIntegerType(4)), 4);
}

TEST(ElementTypes, OnnxDataTypes) {
  MLIRContext context;
  using namespace anvil::onnx_import;
  EXPECT_TRUE(convertDataType(&context, 1).isF32());
  EXPECT_TRUE(convertDataType(&context, 10).isF16());
  EXPECT_TRUE(convertDataType(&context, 16).isBF16());
  EXPECT_TRUE(convertDataType(&context, 9).isInteger(1));
  EXPECT_TRUE(convertDataType(&context, 2).isUnsignedInteger(8));
  EXPECT_TRUE(convertDataType(&context, 3).isSignlessInteger(8));
  EXPECT_TRUE(convertDataType(&context, 13).isUnsignedInteger(64));
  // Strings, complex, float8 and the packed 4-bit types have no element
  // type of their own.
  for (int unsupported : {8, 14, 15, 17, 18, 19, 20, 21, 22, 23, 99})
    EXPECT_FALSE(convertDataType(&context, unsupported)) << unsupported;
  ASSERT_TRUE(packedDataType(21).has_value());
  EXPECT_EQ(packedDataType(21)->bits, 4);
  EXPECT_FALSE(packedDataType(21)->isSigned);
  EXPECT_TRUE(packedDataType(22)->isSigned);
  EXPECT_FALSE(packedDataType(3).has_value());
  EXPECT_EQ(dataTypeName(1), "FLOAT");
  EXPECT_EQ(dataTypeName(17), "FLOAT8E4M3FN");
  EXPECT_EQ(dataTypeName(18), "FLOAT8E4M3FNUZ");
  EXPECT_EQ(dataTypeName(20), "FLOAT8E5M2FNUZ");
  EXPECT_EQ(dataTypeName(21), "UINT4");
  EXPECT_EQ(dataTypeName(22), "INT4");
  EXPECT_EQ(dataTypeName(23), "FLOAT4E2M1");
  EXPECT_EQ(dataTypeName(24), "FLOAT8E8M0");
  EXPECT_EQ(dataTypeName(99), "data type 99");
}

} // namespace
