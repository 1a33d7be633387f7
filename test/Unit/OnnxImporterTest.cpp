//===- OnnxImporterTest.cpp - the ONNX importer through its C++ API -------===//
//
// Models are built with the protobuf API so each test states exactly the
// graph it feeds the importer.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxImporter.h"
#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

#include <fstream>
#include <gtest/gtest.h>

using namespace mlir;
using namespace anvil::onnx_import;

namespace {

/// Collects every diagnostic's text.
struct DiagnosticLog {
  explicit DiagnosticLog(MLIRContext &context)
      : handler(&context, [this](Diagnostic &diag) {
          std::string text;
          llvm::raw_string_ostream os(text);
          os << diag;
          if (auto name = diag.getLocation().dyn_cast<NameLoc>())
            os << " @" << name.getName().getValue();
          messages.push_back(os.str());
          return success();
        }) {}
  bool contains(llvm::StringRef needle) const {
    for (const std::string &m : messages)
      if (llvm::StringRef(m).contains(needle))
        return true;
    return false;
  }
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
};

onnx::ModelProto baseModel(int opset = 17) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto *id = model.add_opset_import();
  id->set_domain("");
  id->set_version(opset);
  model.mutable_graph()->set_name("g");
  return model;
}

void addInput(onnx::GraphProto *graph, const std::string &name,
              std::vector<std::string> dims) {
  auto *input = graph->add_input();
  input->set_name(name);
  auto *tensor = input->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto *shape = tensor->mutable_shape();
  for (const std::string &d : dims) {
    auto *dim = shape->add_dim();
    if (d.empty())
      continue; // anonymous dynamic dim
    if (isdigit(d[0]))
      dim->set_dim_value(std::stoll(d));
    else
      dim->set_dim_param(d);
  }
}

onnx::NodeProto *addNode(onnx::GraphProto *graph, const std::string &op,
                         const std::string &name,
                         std::vector<std::string> inputs,
                         std::vector<std::string> outputs,
                         const std::string &domain = "") {
  auto *node = graph->add_node();
  node->set_op_type(op);
  node->set_name(name);
  node->set_domain(domain);
  for (auto &i : inputs)
    node->add_input(i);
  for (auto &o : outputs)
    node->add_output(o);
  return node;
}

OwningOpRef<ModuleOp> import(MLIRContext &context, const onnx::ModelProto &m,
                             const ImportOptions &options = {},
                             llvm::StringRef baseDir = "") {
  std::string bytes = m.SerializeAsString();
  return importOnnxBuffer(&context, bytes, "test.onnx", baseDir, options);
}

TEST(OnnxImporter, RejectsBytesThatAreNotAModel) {
  MLIRContext context;
  DiagnosticLog log(context);
  EXPECT_FALSE(
      importOnnxBuffer(&context, "\xff\xff\xff garbage", "x.onnx", "", {}));
  EXPECT_TRUE(log.contains("protobuf could not be parsed"));
  EXPECT_FALSE(importOnnxBuffer(&context, "", "x.onnx", "", {}));
  EXPECT_TRUE(log.contains("it has no graph"));
}

TEST(OnnxImporter, RejectsOpsetsAboveTheSupportedRange) {
  MLIRContext context;
  DiagnosticLog log(context);
  EXPECT_FALSE(import(context, baseModel(25)));
  EXPECT_TRUE(log.contains("uses opset 25"));
}

// Older opsets go through onnx's version converter, with a remark.
TEST(OnnxImporter, ConvertsOpsetsBelowTheSupportedRange) {
  MLIRContext context;
  DiagnosticLog log(context);
  EXPECT_TRUE(import(context, baseModel(11)));
  EXPECT_TRUE(log.contains("converted the model from opset 11 to opset 13"));
}

TEST(OnnxImporter, ListsEveryUnsupportedOpWithItsNode) {
  MLIRContext context;
  DiagnosticLog log(context);
  onnx::ModelProto m = baseModel();
  auto *id = m.add_opset_import();
  id->set_domain("com.microsoft");
  id->set_version(1);
  auto *g = m.mutable_graph();
  addInput(g, "x", {"2", "4"});
  addNode(g, "Relu", "ok", {"x"}, {"a"});
  addNode(g, "FancyOp", "first_bad", {"a"}, {"b"});
  addNode(g, "DecoderMaskedMultiHeadAttention", "second_bad", {"b"}, {"c"},
          "com.microsoft");
  g->add_output()->set_name("c");
  EXPECT_FALSE(import(context, m));
  EXPECT_TRUE(log.contains(
      "unsupported op FancyOp (domain ai.onnx, opset 17) @first_bad"));
  EXPECT_TRUE(log.contains(
      "unsupported op DecoderMaskedMultiHeadAttention (domain com.microsoft, "
      "opset 1)"));
  EXPECT_TRUE(log.contains("fused op for beam-search decoding"));
  EXPECT_TRUE(log.contains("2 nodes use unsupported ops"));
}

TEST(OnnxImporter, BindsSymbolicDims) {
  MLIRContext context;
  DiagnosticLog log(context);
  onnx::ModelProto m = baseModel();
  auto *g = m.mutable_graph();
  addInput(g, "x", {"batch", "4"});
  addNode(g, "Relu", "relu", {"x"}, {"y"});
  g->add_output()->set_name("y");

  auto dynamic = import(context, m);
  ASSERT_TRUE(dynamic);
  auto func = *dynamic->getOps<func::FuncOp>().begin();
  auto type = func.getArgumentTypes()[0].cast<RankedTensorType>();
  EXPECT_TRUE(type.isDynamicDim(0));
  EXPECT_EQ(type.getDimSize(1), 4);

  ImportOptions options;
  options.dims["batch"] = 3;
  auto bound = import(context, m, options);
  ASSERT_TRUE(bound);
  func = *bound->getOps<func::FuncOp>().begin();
  EXPECT_EQ(func.getFunctionType().getResult(0),
            RankedTensorType::get({3, 4}, Float32Type::get(&context)));

  options.dims["no_such_dim"] = 1;
  EXPECT_FALSE(import(context, m, options));
  EXPECT_TRUE(
      log.contains("no graph input has a dimension named 'no_such_dim'"));
}

TEST(OnnxImporter, AnonymousDynamicDimNeedsAShape) {
  MLIRContext context;
  DiagnosticLog log(context);
  onnx::ModelProto m = baseModel();
  auto *g = m.mutable_graph();
  addInput(g, "x", {"", "4"});
  addNode(g, "Relu", "relu", {"x"}, {"y"});
  g->add_output()->set_name("y");
  EXPECT_FALSE(import(context, m));
  EXPECT_TRUE(log.contains(
      "dimension 0 of graph input 'x' is dynamic and has no name"));
  ImportOptions options;
  options.inputShapes["x"] = {5, 4};
  EXPECT_TRUE(import(context, m, options));
}

TEST(OnnxImporter, ExternalData) {
  MLIRContext context;
  DiagnosticLog log(context);
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("anvil-ext", dir));

  onnx::ModelProto m = baseModel();
  auto *g = m.mutable_graph();
  addInput(g, "x", {"2", "128"});
  auto *w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(128);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto *location = w->add_external_data();
  location->set_key("location");
  location->set_value("weights.bin");
  addNode(g, "Add", "add", {"x", "w"}, {"y"});
  g->add_output()->set_name("y");

  EXPECT_FALSE(import(context, m, {}, dir));
  EXPECT_TRUE(log.contains("cannot read external data of tensor 'w'"));

  llvm::SmallString<128> file(dir);
  llvm::sys::path::append(file, "weights.bin");
  {
    std::ofstream out(file.c_str(), std::ios::binary);
    std::vector<float> values(128, 0.5f);
    out.write(reinterpret_cast<const char *>(values.data()), 512);
  }
  auto module = import(context, m, {}, dir);
  ASSERT_TRUE(module);
  int resources = 0;
  module->walk([&](anvil::ConstantOp op) {
    resources += op.getValue().isa<DenseResourceElementsAttr>();
  });
  EXPECT_EQ(resources, 1);

  location->set_value("../escape.bin");
  EXPECT_FALSE(import(context, m, {}, dir));
  EXPECT_TRUE(log.contains("invalid external data location"));
  llvm::sys::fs::remove_directories(dir);
}

// 4-bit weights in external data go through the reader every other tensor
// uses: the same location checks and messages.
TEST(OnnxImporter, PackedExternalData) {
  MLIRContext context;
  DiagnosticLog log(context);
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("anvil-ext4", dir));

  onnx::ModelProto m = baseModel(21);
  m.set_ir_version(10); // 4-bit types
  auto *g = m.mutable_graph();
  auto *w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(22); // INT4 (onnx.proto 1.12 has no name for it)
  w->add_dims(2);
  w->add_dims(4);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto *location = w->add_external_data();
  location->set_key("location");
  location->set_value("w4.bin");
  auto *scale = g->add_initializer();
  scale->set_name("s");
  scale->set_data_type(onnx::TensorProto::FLOAT);
  scale->add_float_data(0.5f);
  addNode(g, "DequantizeLinear", "dq", {"w", "s"}, {"y"});
  g->add_output()->set_name("y");

  EXPECT_FALSE(import(context, m, {}, dir));
  EXPECT_TRUE(log.contains("cannot read external data of tensor 'w'"));

  llvm::SmallString<128> file(dir);
  llvm::sys::path::append(file, "w4.bin");
  {
    std::ofstream out(file.c_str(), std::ios::binary);
    const char packed[4] = {0x21, 0x43, 0x65, 0x07};
    out.write(packed, 4);
  }
  EXPECT_TRUE(import(context, m, {}, dir));

  location->set_value("../escape.bin");
  EXPECT_FALSE(import(context, m, {}, dir));
  EXPECT_TRUE(log.contains("tensor 'w' has an invalid external data "
                           "location '../escape.bin'"));
  llvm::sys::fs::remove_directories(dir);
}

TEST(OnnxImporter, TableCoversTheZooOps) {
  // The ops the exported zoo decoders, BERT and the CNNs use.
  for (const char *op : {"Add",
                         "Cast",
                         "Concat",
                         "Constant",
                         "ConstantOfShape",
                         "Conv",
                         "Cos",
                         "Div",
                         "Equal",
                         "Expand",
                         "Gather",
                         "Gemm",
                         "GlobalAveragePool",
                         "LayerNormalization",
                         "MatMul",
                         "MaxPool",
                         "Mul",
                         "Pow",
                         "Range",
                         "ReduceMean",
                         "Relu",
                         "Reshape",
                         "ScatterND",
                         "Shape",
                         "Sigmoid",
                         "Sin",
                         "Slice",
                         "Softmax",
                         "Sqrt",
                         "Sub",
                         "Transpose",
                         "Trilu",
                         "Unsqueeze",
                         "Where",
                         "Clip",
                         "Flatten",
                         "Erf",
                         "Tanh"}) {
    const OpTableEntry *entry = OpTable::get().lookup("", op);
    ASSERT_NE(entry, nullptr) << op;
    EXPECT_NE(entry->handler, nullptr) << op;
  }
}

} // namespace
