//===- RunSizesTest.cpp - manifest v2 run-time sizes ----------------------===//
//
// Entry points with bounded dims (manifest "sizes"): the runtime binds each
// size from the inputs, checks bounds and agreement, checks outputs against
// the bound shape, and passes the values to the code. The stand-in
// add_kernel.c's scaled(x[S, 4]) computes y = x + S from the sizes it
// receives; its rows(a[R, 3], b[R, 3]) computes a + b + w over 6 floats.
//
//===----------------------------------------------------------------------===//

#include "StandInArtifact.h"

#include "LoadedModel.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace anvil::test;

namespace {

const char *kManifest = R"({
  "manifest_version": 2,
  "target": {"name": "cpu", "cpu_features": [], "future_target_key": 1},
  "a_future_key": {"anything": [1, 2]},
  "entry_points": [
    {"name": "scaled", "arena_bytes": 0,
     "sizes": [{"name": "S", "min": 1, "max": 8, "note": "ignored"}],
     "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
     "outputs": [{"name": "y", "dtype": "f32", "shape": ["S", 4],
                  "layout": "ignored"}]},
    {"name": "rows",
     "sizes": [{"name": "rows", "min": 1, "max": 2}],
     "inputs": [{"name": "a", "dtype": "f32", "shape": ["rows", 3]},
                {"name": "b", "dtype": "f32", "shape": ["rows", 3]}],
     "outputs": [{"name": "y", "dtype": "f32", "shape": ["rows", 3]}]}
  ]
})";

struct Tensors {
  std::vector<anvil_tensor *> all;
  anvil_tensor *make(anvil_dtype dtype, std::vector<int64_t> dims) {
    anvil_tensor *t = nullptr;
    EXPECT_EQ(anvil_tensor_create(dtype, dims.size(), dims.data(), &t),
              nullptr);
    all.push_back(t);
    return t;
  }
  ~Tensors() {
    for (anvil_tensor *t : all)
      anvil_tensor_release(t);
  }
};

class RunSizes : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(openModel(standInArtifact(kManifest), nullptr, &model), "");
  }
  void TearDown() override { anvil_model_release(model); }
  std::string run(const char *entry, std::vector<anvil_tensor *> in,
                  std::vector<anvil_tensor *> out) {
    return takeMessage(anvil_model_run(model, entry, in.data(), in.size(),
                                       out.data(), out.size()));
  }
  anvil_model *model = nullptr;
};

TEST_F(RunSizes, SizesReachTheCode) {
  for (int64_t s : {1, 3, 8}) {
    Tensors t;
    anvil_tensor *x = t.make(ANVIL_DTYPE_F32, {s, 4});
    anvil_tensor *y = t.make(ANVIL_DTYPE_F32, {s, 4});
    float *xs = static_cast<float *>(anvil_tensor_data(x));
    for (int64_t i = 0; i < s * 4; ++i)
      xs[i] = 0.5f * float(i) - 3;
    ASSERT_EQ(run("scaled", {x}, {y}), "");
    const float *ys = static_cast<const float *>(anvil_tensor_data(y));
    for (int64_t i = 0; i < s * 4; ++i)
      EXPECT_EQ(ys[i], 0.5f * float(i) - 3 + float(s)) << s << " " << i;
  }
}

TEST_F(RunSizes, OutOfBoundsAndMismatchesAreNamed) {
  Tensors t;
  anvil_tensor *x9 = t.make(ANVIL_DTYPE_F32, {9, 4});
  anvil_tensor *y9 = t.make(ANVIL_DTYPE_F32, {9, 4});
  EXPECT_EQ(run("scaled", {x9}, {y9}),
            "input 'x' of 'scaled': dimension 0 (size 'S') is 9, outside its "
            "bounds [1, 8]");
  anvil_tensor *x0 = t.make(ANVIL_DTYPE_F32, {0, 4});
  anvil_tensor *y0 = t.make(ANVIL_DTYPE_F32, {0, 4});
  EXPECT_EQ(run("scaled", {x0}, {y0}),
            "input 'x' of 'scaled': dimension 0 (size 'S') is 0, outside its "
            "bounds [1, 8]");
  anvil_tensor *x35 = t.make(ANVIL_DTYPE_F32, {3, 5});
  anvil_tensor *y34 = t.make(ANVIL_DTYPE_F32, {3, 4});
  EXPECT_EQ(run("scaled", {x35}, {y34}),
            "inputs 'x' of 'scaled' must be f32[Sx4], got f32[3x5]");
  anvil_tensor *x34 = t.make(ANVIL_DTYPE_F32, {3, 4});
  anvil_tensor *y44 = t.make(ANVIL_DTYPE_F32, {4, 4});
  EXPECT_EQ(run("scaled", {x34}, {y44}),
            "outputs 'y' of 'scaled' must be f32[3x4], got f32[4x4]");

  // One size, two values.
  anvil_tensor *a = t.make(ANVIL_DTYPE_F32, {2, 3});
  anvil_tensor *b = t.make(ANVIL_DTYPE_F32, {1, 3});
  anvil_tensor *y = t.make(ANVIL_DTYPE_F32, {2, 3});
  anvil_status s = anvil_model_run(
      model, "rows", std::vector<anvil_tensor *>{a, b}.data(), 2, &y, 1);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_INVALID_ARGUMENT);
  EXPECT_EQ(takeMessage(s), "input 'b' of 'rows': dimension 0 (size 'rows') "
                            "is 1, but input 'a' made it 2");
  // Agreeing values run: y = a + b + w.
  anvil_tensor *b2 = t.make(ANVIL_DTYPE_F32, {2, 3});
  float *as = static_cast<float *>(anvil_tensor_data(a));
  float *bs = static_cast<float *>(anvil_tensor_data(b2));
  for (int i = 0; i < 6; ++i) {
    as[i] = float(i);
    bs[i] = 100.0f;
  }
  ASSERT_EQ(run("rows", {a, b2}, {y}), "");
  const float *ys = static_cast<const float *>(anvil_tensor_data(y));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(ys[i], float(i) + 100.0f + kStandInWeights[i]);
}

TEST_F(RunSizes, TheCApiDescribesSymbolicDims) {
  anvil_tensor_info info;
  ASSERT_EQ(anvil_model_tensor_info(model, "scaled", 0, 0, &info), nullptr);
  EXPECT_EQ(info.rank, 2u);
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_EQ(info.dims[1], 4);
  int64_t which = 7;
  ASSERT_EQ(anvil_model_dim_size(model, "scaled", 1, 0, 0, &which), nullptr);
  EXPECT_EQ(which, 0);
  ASSERT_EQ(anvil_model_dim_size(model, "scaled", 1, 0, 1, &which), nullptr);
  EXPECT_EQ(which, -1);
  EXPECT_EQ(takeMessage(anvil_model_dim_size(model, "scaled", 1, 0, 2, &which)),
            "tensor 'y' has rank 2");
  size_t count = 0;
  ASSERT_EQ(anvil_model_size_count(model, "scaled", &count), nullptr);
  ASSERT_EQ(count, 1u);
  anvil_size_info size;
  ASSERT_EQ(anvil_model_size_info(model, "scaled", 0, &size), nullptr);
  EXPECT_STREQ(size.name, "S");
  EXPECT_EQ(size.min, 1);
  EXPECT_EQ(size.max, 8);
  EXPECT_EQ(takeMessage(anvil_model_size_info(model, "scaled", 1, &size)),
            "entry point 'scaled' has only 1 sizes");
  EXPECT_EQ(takeMessage(anvil_model_size_count(model, "nope", &count)),
            "no entry point 'nope'");
}

// The engine's path: LoadedModel::run by index with sizes it computed; the
// bounds are still checked.
TEST(RunSizesDirect, LoadedModelRunChecksTheSizesBounds) {
  auto bytes = std::make_unique<anvil::runtime::ArtifactBytes>();
  std::vector<unsigned char> file = standInArtifact(kManifest);
  ASSERT_TRUE(bytes->copy(file.data(), file.size()));
  std::unique_ptr<anvil::runtime::LoadedModel> model;
  ASSERT_EQ(anvil::runtime::LoadedModel::open(
                std::move(bytes), true,
                std::make_shared<anvil::runtime::Instance>(2), model),
            nullptr);
  int64_t entry = model->findEntry("scaled");
  ASSERT_EQ(entry, 0);
  float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8] = {0};
  const void *in[1] = {x};
  void *out[1] = {y};
  int64_t sizes[1] = {2};
  anvil::runtime::Invocation call;
  call.inputs = in;
  call.inputCount = 1;
  call.outputs = out;
  call.outputCount = 1;
  call.sizes = sizes;
  call.sizeCount = 1;
  ASSERT_EQ(takeMessage(model->run(static_cast<size_t>(entry), call)), "");
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(y[i], x[i] + 2.0f);
  sizes[0] = 9;
  EXPECT_EQ(takeMessage(model->run(static_cast<size_t>(entry), call)),
            "size 'S' of 'scaled' is 9, outside its bounds [1, 8]");
  call.sizeCount = 0;
  EXPECT_EQ(takeMessage(model->run(static_cast<size_t>(entry), call)),
            "entry point 'scaled' takes 1 sizes, got 0");
}

/// The message of opening a stand-in artifact with `manifest`.
std::string openMessage(const std::string &manifest) {
  anvil_model *model = nullptr;
  std::string message = openModel(standInArtifact(manifest), nullptr, &model);
  anvil_model_release(model);
  return message;
}

std::string withEntry(const std::string &entry, int version = 2) {
  return R"({"manifest_version": )" + std::to_string(version) +
         R"(, "target": {"name": "cpu"}, "entry_points": [)" + entry + "]}";
}

TEST(RunSizesManifest, BadSizeTablesAreRefusedAtLoad) {
  EXPECT_EQ(
      openMessage(withEntry(
          R"({"name": "scaled", "sizes": [{"name": "S", "min": 1, "max": 8},
                    {"name": "T", "min": 1, "max": 8}],
                    "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
                    "outputs": [{"name": "y", "dtype": "f32", "shape": ["T", 4]}]})")),
      "entry point 'scaled': size 'T' is not a dimension of any input or "
      "state");
  EXPECT_EQ(openMessage(withEntry(
                R"({"name": "scaled", "sizes": [],
                    "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
                    "outputs": []})")),
            "entry point 'scaled' inputs: tensor 'x' has dimension 'S', which "
            "is not in the entry point's sizes");
  EXPECT_EQ(
      openMessage(withEntry(
          R"({"name": "scaled", "sizes": [{"name": "S", "min": 9, "max": 8}],
                    "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
                    "outputs": []})")),
      "entry point 'scaled': size 'S' has bounds [9, 8]; they need 0 <= "
      "min <= max");
  EXPECT_EQ(openMessage(withEntry(
                R"({"name": "scaled", "sizes": [{"name": "S", "min": 1}],
                    "inputs": [], "outputs": []})")),
            "entry point 'scaled': each size needs a name and integer min and "
            "max");
  EXPECT_EQ(
      openMessage(withEntry(
          R"({"name": "scaled", "sizes": [{"name": "S", "min": 1, "max": 2},
                    {"name": "S", "min": 1, "max": 2}],
                    "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
                    "outputs": []})")),
      "entry point 'scaled': size 'S' is listed twice");
  EXPECT_EQ(openMessage(withEntry(
                R"({"name": "scaled", "inputs": [{"name": "x", "dtype": "f32",
                    "shape": [1.5, 4]}], "outputs": []})")),
            "entry point 'scaled' inputs: tensor 'x' has a dimension that is "
            "neither a non-negative integer nor a size name");
  EXPECT_EQ(openMessage(withEntry("", 3)),
            "the manifest has no manifest_version from 1 to 2 (a newer "
            "manifest needs a newer runtime)");
  // Version 1 manifests (static shapes only) still load.
  EXPECT_EQ(openMessage(withEntry(
                R"({"name": "main", "inputs": [
                    {"name": "a", "dtype": "f32", "shape": [2, 3]},
                    {"name": "b", "dtype": "f32", "shape": [2, 3]}],
                    "outputs": [{"name": "y", "dtype": "f32",
                    "shape": [2, 3]}]})",
                1)),
            "");
}

} // namespace
