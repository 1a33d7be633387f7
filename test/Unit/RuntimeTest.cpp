//===- RuntimeTest.cpp - the C API: open, inspect, run, fail clearly ------===//
//
// The code section is Inputs/add_kernel.c, built as a shared object by the
// test's CMake: it computes y = a + b + w with w from the weights section.
// Expected values are that formula evaluated here.
//
//===----------------------------------------------------------------------===//

#include "StandInArtifact.h"

#include "anvil/anvil.h"
#include "anvil/artifact.h"

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace anvil::artifact;
using namespace anvil::test;

namespace {

const char *kManifest = R"({
  "manifest_version": 1,
  "target": {"name": "cpu", "cpu_features": []},
  "entry_points": [
    {"name": "main", "arena_bytes": 0,
     "inputs": [{"name": "a", "dtype": "f32", "shape": [2, 3]},
                {"name": "b", "dtype": "f32", "shape": [2, 3]}],
     "outputs": [{"name": "y", "dtype": "f32", "shape": [2, 3]}]},
    {"name": "broken", "inputs": [], "outputs": []},
    {"name": "staged", "arena_bytes": 256,
     "inputs": [{"name": "a", "dtype": "f32", "shape": [2, 3]},
                {"name": "b", "dtype": "f32", "shape": [2, 3]}],
     "outputs": [{"name": "y", "dtype": "f32", "shape": [2, 3]}]}
  ]
})";

// The artifact helpers are StandInArtifact.h's.
const float (&kWeights)[6] = kStandInWeights;

std::vector<unsigned char> makeArtifact(const std::string &manifest) {
  return standInArtifact(manifest);
}
std::vector<unsigned char>
makeArtifact(const std::string &manifest,
             const std::vector<unsigned char> &code) {
  return standInArtifact(manifest, code);
}

/// Opens from memory; returns the failure message ("" on success).
std::string open(const std::vector<unsigned char> &bytes, anvil_model **model,
                 anvil_status_code *code = nullptr) {
  return openModel(bytes, nullptr, model, code);
}

TEST(Runtime, RunsAnEntryPoint) {
  anvil_model *model = nullptr;
  ASSERT_EQ(open(makeArtifact(kManifest), &model), "");
  EXPECT_STREQ(anvil_model_target(model), "cpu");
  EXPECT_EQ(std::string(anvil_model_manifest(model)), kManifest);
  ASSERT_EQ(anvil_model_entry_point_count(model), 3u);
  EXPECT_STREQ(anvil_model_entry_point_name(model, 0), "main");
  EXPECT_EQ(anvil_model_entry_point_name(model, 3), nullptr);

  size_t nin = 0, nout = 0;
  ASSERT_EQ(anvil_model_signature(model, "main", &nin, &nout), nullptr);
  EXPECT_EQ(nin, 2u);
  EXPECT_EQ(nout, 1u);
  anvil_tensor_info info;
  ASSERT_EQ(anvil_model_tensor_info(model, "main", 1, 0, &info), nullptr);
  EXPECT_STREQ(info.name, "y");
  EXPECT_EQ(info.dtype, ANVIL_DTYPE_F32);
  EXPECT_EQ(info.rank, 2u);
  EXPECT_EQ(info.dims[1], 3);

  const int64_t dims[2] = {2, 3};
  float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, -1, 0, 2, 0.25f, -6};
  anvil_tensor *ta = nullptr, *tb = nullptr, *ty = nullptr;
  ASSERT_EQ(anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, a, sizeof a, &ta),
            nullptr);
  ASSERT_EQ(anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, b, sizeof b, &tb),
            nullptr);
  ASSERT_EQ(anvil_tensor_create(ANVIL_DTYPE_F32, 2, dims, &ty), nullptr);
  anvil_tensor *inputs[2] = {ta, tb};
  ASSERT_EQ(anvil_model_run(model, "main", inputs, 2, &ty, 1), nullptr);
  const float *y = static_cast<const float *>(anvil_tensor_data(ty));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(y[i], a[i] + b[i] + kWeights[i]) << i;

  // Wrong shapes and counts are refused before any code runs.
  const int64_t wrong[2] = {3, 2};
  anvil_tensor *tw = nullptr;
  ASSERT_EQ(anvil_tensor_create(ANVIL_DTYPE_F32, 2, wrong, &tw), nullptr);
  anvil_tensor *bad[2] = {ta, tw};
  anvil_status s = anvil_model_run(model, "main", bad, 2, &ty, 1);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_INVALID_ARGUMENT);
  EXPECT_STREQ(anvil_status_get_message(s),
               "inputs 'b' of 'main' must be f32[2x3], got f32[3x2]");
  anvil_status_free(s);
  s = anvil_model_run(model, "main", inputs, 1, &ty, 1);
  EXPECT_STREQ(anvil_status_get_message(s),
               "entry point 'main' takes 2 inputs, got 1");
  anvil_status_free(s);
  s = anvil_model_run(model, "nope", inputs, 2, &ty, 1);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_NOT_FOUND);
  anvil_status_free(s);
  s = anvil_model_run(model, "broken", nullptr, 0, nullptr, 0);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_EXECUTION_FAILED);
  EXPECT_STREQ(anvil_status_get_message(s),
               "entry point 'broken' failed with code 7");
  anvil_status_free(s);

  for (anvil_tensor *t : {ta, tb, ty, tw})
    anvil_tensor_release(t);
  anvil_model_release(model);
}

// Runs from several threads at once share the model; each gets its own
// arena from the pool ('staged' asks for 256 bytes): the stand-in
// kernel stages a + b in the arena and reads it back after a pause, so two
// runs sharing an arena would get each other's sums.
TEST(Runtime, RunsConcurrently) {
  anvil_model *model = nullptr;
  ASSERT_EQ(open(makeArtifact(kManifest), &model), "");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      const int64_t dims[2] = {2, 3};
      float a[6], b[6] = {0, 0, 0, 0, 0, 0}, y[6];
      for (int i = 0; i < 6; ++i)
        a[i] = float(t * 10 + i);
      anvil_tensor *ta = nullptr, *tb = nullptr, *ty = nullptr;
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, a, sizeof a, &ta);
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, b, sizeof b, &tb);
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, y, sizeof y, &ty);
      anvil_tensor *inputs[2] = {ta, tb};
      for (int run = 0; run < 200; ++run) {
        anvil_status s = anvil_model_run(model, "staged", inputs, 2, &ty, 1);
        if (s)
          ++wrong;
        anvil_status_free(s);
        for (int i = 0; i < 6; ++i)
          if (y[i] != a[i] + kWeights[i])
            ++wrong;
      }
      for (anvil_tensor *x : {ta, tb, ty})
        anvil_tensor_release(x);
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(wrong.load(), 0);
  anvil_model_release(model);
}

TEST(Runtime, OpensFromAFile) {
  std::vector<unsigned char> bytes = makeArtifact(kManifest);
  std::string path = ::testing::TempDir() + "runtime-test.anvil";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  anvil_model *model = nullptr;
  anvil_status s = anvil_model_open_file(path.c_str(), nullptr, &model);
  ASSERT_EQ(s, nullptr) << anvil_status_get_message(s);
  EXPECT_EQ(anvil_model_entry_point_count(model), 3u);
  anvil_model_release(model);
  std::remove(path.c_str());

  s = anvil_model_open_file("/no/such/model.anvil", nullptr, &model);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_NOT_FOUND);
  EXPECT_STREQ(anvil_status_get_message(s),
               "cannot open '/no/such/model.anvil': No such file or directory");
  anvil_status_free(s);
}

TEST(Runtime, RefusesBadArtifactsClearly) {
  anvil_model *model = nullptr;
  anvil_status_code code;
  std::string manifest = kManifest;

  std::string needsAvx = manifest;
  needsAvx.replace(needsAvx.find("\"cpu_features\": []"), 18,
                   "\"cpu_features\": [\"no-such-feature\"]");
  EXPECT_EQ(open(makeArtifact(needsAvx), &model, &code),
            "the artifact needs an unknown CPU feature 'no-such-feature'");
  EXPECT_EQ(code, ANVIL_INCOMPATIBLE);

  EXPECT_EQ(open(makeArtifact("{not json"), &model, &code),
            "the manifest is not a JSON object");
  EXPECT_EQ(code, ANVIL_INVALID_ARTIFACT);

  std::string badDtype = manifest;
  badDtype.replace(badDtype.find("\"f32\""), 5, "\"f31\"");
  EXPECT_EQ(open(makeArtifact(badDtype), &model),
            "entry point 'main' inputs: tensor 'a' has unknown dtype 'f31'");

  std::vector<unsigned char> garbage(300, 0x41);
  std::string message = open(makeArtifact(kManifest, garbage), &model, &code);
  EXPECT_EQ(
      message.rfind("the code section is not a loadable shared object", 0), 0u)
      << message;
  EXPECT_EQ(code, ANVIL_INVALID_ARTIFACT);

  std::string extra = manifest;
  extra.replace(extra.find("\"broken\""), 8, "\"missing\"");
  EXPECT_EQ(open(makeArtifact(extra), &model),
            "the code section has no function for entry point 'missing'");

  std::vector<unsigned char> bytes = makeArtifact(kManifest);
  bytes[bytes.size() - 1] ^= 1; // in the weights
  EXPECT_EQ(open(bytes, &model, &code),
            "the weights section 'weights' is corrupted (checksum mismatch)");
  EXPECT_EQ(code, ANVIL_INVALID_ARTIFACT);
  anvil_model_options skip = {1, 0, nullptr, nullptr};
  anvil_status s =
      anvil_model_open_memory(bytes.data(), bytes.size(), &skip, &model);
  EXPECT_EQ(s, nullptr) << anvil_status_get_message(s);
  anvil_model_release(model);
}

TEST(Runtime, TensorsCheckTheirShapes) {
  const int64_t dims[2] = {2, 3};
  float data[5];
  anvil_tensor *t = nullptr;
  anvil_status s =
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, data, sizeof data, &t);
  EXPECT_STREQ(anvil_status_get_message(s),
               "the buffer has 20 bytes but the shape needs 24");
  anvil_status_free(s);
  const int64_t negative[1] = {-1};
  s = anvil_tensor_create(ANVIL_DTYPE_F32, 1, negative, &t);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_INVALID_ARGUMENT);
  anvil_status_free(s);
  const int64_t huge[2] = {int64_t(1) << 62, int64_t(1) << 62};
  s = anvil_tensor_create(ANVIL_DTYPE_F32, 2, huge, &t);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_RESOURCE_EXHAUSTED);
  anvil_status_free(s);
  ASSERT_EQ(anvil_tensor_create(ANVIL_DTYPE_I64, 2, dims, &t), nullptr);
  EXPECT_EQ(anvil_tensor_byte_size(t), 48u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(anvil_tensor_data(t)) % 64, 0u);
  anvil_tensor_release(t);
}

// The C API's dtype numbers, names and sizes, from the released list (the
// numbers of anvil.h before the table existed, which may never change) and
// ONNX's definitions of the newer types.
TEST(Runtime, DtypesKeepTheirNumbersNamesAndSizes) {
  struct Known {
    int value;
    const char *name;
    size_t bits;
  };
  const Known known[] = {
      {1, "f32", 32},      {2, "f16", 16},       {3, "bf16", 16},
      {4, "f64", 64},      {5, "i64", 64},       {6, "i32", 32},
      {7, "i8", 8},        {8, "u8", 8},         {9, "bool", 8},
      {10, "i16", 16},     {11, "u16", 16},      {12, "u32", 32},
      {13, "u64", 64},     {14, "i4", 4},        {15, "u4", 4},
      {16, "f8e4m3fn", 8}, {19, "f8e5m2fnuz", 8}};
  for (const Known &k : known) {
    auto dtype = static_cast<anvil_dtype>(k.value);
    EXPECT_STREQ(anvil_dtype_name(dtype), k.name) << k.value;
    EXPECT_EQ(anvil_dtype_bits(dtype), k.bits) << k.value;
    EXPECT_EQ(anvil_dtype_size(dtype), k.bits % 8 ? 0 : k.bits / 8) << k.value;
  }
  EXPECT_EQ(ANVIL_DTYPE_BOOL, 9);
  EXPECT_EQ(ANVIL_DTYPE_U64, 13);
  EXPECT_STREQ(anvil_dtype_name(static_cast<anvil_dtype>(20)), "unknown");
  EXPECT_EQ(anvil_dtype_bits(static_cast<anvil_dtype>(0)), 0u);
  // Packed 4-bit: five values take three bytes.
  const int64_t five[1] = {5};
  anvil_tensor *t = nullptr;
  ASSERT_EQ(anvil_tensor_create(ANVIL_DTYPE_I4, 1, five, &t), nullptr);
  EXPECT_EQ(anvil_tensor_byte_size(t), 3u);
  anvil_tensor_release(t);
}

} // namespace

#include "anvil/anvil.hpp"

namespace {
TEST(Runtime, CppHandlesReleaseWhatTheyHold) {
  std::vector<unsigned char> bytes = makeArtifact(kManifest);
  anvil_model *raw = nullptr;
  anvil::Status status{
      anvil_model_open_memory(bytes.data(), bytes.size(), nullptr, &raw)};
  ASSERT_FALSE(status) << anvil_status_get_message(status.get());
  anvil::Model model{raw};
  const int64_t dims[2] = {2, 3};
  anvil_tensor *t = nullptr;
  anvil::Status created{anvil_tensor_create(ANVIL_DTYPE_F32, 2, dims, &t)};
  ASSERT_FALSE(created);
  anvil::Tensor tensor{t};
  EXPECT_EQ(anvil_tensor_dim(tensor.get(), 1), 3);
  anvil::Status missing{
      anvil_model_signature(model.get(), "nope", nullptr, nullptr)};
  ASSERT_TRUE(missing);
  EXPECT_STREQ(anvil_status_get_message(missing.get()),
               "no entry point 'nope'");
}
} // namespace
