//===- InstanceTest.cpp - models on one instance share its threads --------===//
//
// The code sections are the stand-ins in Inputs/: add_kernel.c's threads()
// reports, for each of 64 iterations, the OS thread that ran it and the
// thread number the host passed; chunk_failure_kernel.cpp fails inside a
// worker's chunk.
//
//===----------------------------------------------------------------------===//

#include "StandInArtifact.h"

#include "anvil/anvil.h"

#include <atomic>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <thread>
#include <vector>

using namespace anvil::test;

namespace {

const char *kManifest = R"({
  "manifest_version": 2,
  "target": {"name": "cpu", "cpu_features": []},
  "entry_points": [
    {"name": "main", "arena_bytes": 0,
     "inputs": [{"name": "a", "dtype": "f32", "shape": [2, 3]},
                {"name": "b", "dtype": "f32", "shape": [2, 3]}],
     "outputs": [{"name": "y", "dtype": "f32", "shape": [2, 3]}]},
    {"name": "threads", "inputs": [],
     "outputs": [{"name": "ids", "dtype": "i64", "shape": [64, 2]}]},
    {"name": "fail_in_chunk", "inputs": [], "outputs": []}
  ]
})";

/// Which OS threads ran each worker thread number (1, 2, ...) over `runs`
/// runs of threads() on `model`, added to `seen`. Fails the test on a
/// thread number outside [0, threads).
void recordWorkers(anvil_model *model, int runs, int64_t threads,
                   std::map<int64_t, std::set<int64_t>> &seen) {
  const int64_t dims[2] = {64, 2};
  for (int r = 0; r < runs; ++r) {
    int64_t ids[128] = {0};
    anvil_tensor *t = nullptr;
    ASSERT_EQ(anvil_tensor_wrap(ANVIL_DTYPE_I64, 2, dims, ids, sizeof ids, &t),
              nullptr);
    ASSERT_EQ(takeMessage(anvil_model_run(model, "threads", nullptr, 0, &t, 1)),
              "");
    anvil_tensor_release(t);
    for (int i = 0; i < 64; ++i) {
      ASSERT_NE(ids[2 * i], 0) << "iteration " << i << " did not run";
      ASSERT_GE(ids[2 * i + 1], 0);
      ASSERT_LT(ids[2 * i + 1], threads);
      if (ids[2 * i + 1] != 0)
        seen[ids[2 * i + 1]].insert(ids[2 * i]);
    }
  }
}

anvil_instance *makeInstance(int threads) {
  anvil_instance_options options{sizeof(anvil_instance_options), threads};
  anvil_instance *instance = nullptr;
  EXPECT_EQ(takeMessage(anvil_instance_create(&options, &instance)), "");
  return instance;
}

// One pool: worker number k is one OS thread, whichever model's run it
// serves, and at most threads - 1 worker threads exist. With a pool per
// model (the control below), worker 1 of model A and worker 1 of model B
// are different OS threads, so the first check would fail.
TEST(Instance, ModelsOnOneInstanceShareOnePool) {
  anvil_instance *instance = makeInstance(3);
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(anvil_instance_thread_count(instance), 3u);
  std::vector<unsigned char> bytes = standInArtifact(kManifest);
  anvil_model_options options{};
  options.instance = instance;
  anvil_model *a = nullptr, *b = nullptr;
  ASSERT_EQ(openModel(bytes, &options, &a), "");
  ASSERT_EQ(openModel(bytes, &options, &b), "");
  std::map<int64_t, std::set<int64_t>> seen;
  recordWorkers(a, 5, 3, seen);
  recordWorkers(b, 5, 3, seen);
  std::set<int64_t> workerThreads;
  for (const auto &[number, osThreads] : seen) {
    EXPECT_EQ(osThreads.size(), 1u)
        << "thread number " << number << " ran on several OS threads";
    workerThreads.insert(osThreads.begin(), osThreads.end());
  }
  EXPECT_FALSE(seen.empty()) << "no worker ever ran a chunk";
  EXPECT_LE(workerThreads.size(), 2u);
  anvil_model_release(a);
  anvil_model_release(b);
  anvil_instance_release(instance);
}

// The control: without an instance each model has its own pool, and the
// same thread number runs on different OS threads in the two models.
TEST(Instance, ModelsWithoutAnInstanceHaveTheirOwnPools) {
  std::vector<unsigned char> bytes = standInArtifact(kManifest);
  anvil_model_options options{};
  options.num_threads = 3;
  anvil_model *a = nullptr, *b = nullptr;
  ASSERT_EQ(openModel(bytes, &options, &a), "");
  ASSERT_EQ(openModel(bytes, &options, &b), "");
  std::map<int64_t, std::set<int64_t>> seenA, seenB;
  recordWorkers(a, 5, 3, seenA);
  recordWorkers(b, 5, 3, seenB);
  std::set<int64_t> all;
  for (auto *seen : {&seenA, &seenB})
    for (const auto &entry : *seen)
      all.insert(entry.second.begin(), entry.second.end());
  EXPECT_GT(all.size(), 2u) << "two pools of 2 workers should show more than "
                               "2 worker threads";
  anvil_model_release(a);
  anvil_model_release(b);
}

// Runs of two models on one instance, from several application threads at
// once, are each complete and correct (the pool runs their loops side by
// side).
TEST(Instance, ConcurrentRunsOfTwoModelsOnOneInstance) {
  anvil_instance *instance = makeInstance(3);
  std::vector<unsigned char> bytes = standInArtifact(kManifest);
  anvil_model_options options{};
  options.instance = instance;
  anvil_model *models[2] = {nullptr, nullptr};
  ASSERT_EQ(openModel(bytes, &options, &models[0]), "");
  ASSERT_EQ(openModel(bytes, &options, &models[1]), "");
  // The application lets go of the instance first: the models keep it.
  anvil_instance_release(instance);
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      anvil_model *model = models[c % 2];
      const int64_t dims[2] = {2, 3};
      float a[6], b[6], y[6];
      for (int i = 0; i < 6; ++i) {
        a[i] = float(c * 100 + i);
        b[i] = float(-i) / 4;
      }
      anvil_tensor *ta, *tb, *ty;
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, a, sizeof a, &ta);
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, b, sizeof b, &tb);
      anvil_tensor_wrap(ANVIL_DTYPE_F32, 2, dims, y, sizeof y, &ty);
      anvil_tensor *inputs[2] = {ta, tb};
      for (int run = 0; run < 100; ++run) {
        for (float &v : y)
          v = -1;
        if (!takeMessage(anvil_model_run(model, "main", inputs, 2, &ty, 1))
                 .empty())
          ++wrong;
        for (int i = 0; i < 6; ++i)
          if (y[i] != a[i] + b[i] + kStandInWeights[i])
            ++wrong;
      }
      for (anvil_tensor *t : {ta, tb, ty})
        anvil_tensor_release(t);
    });
  for (std::thread &t : callers)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
  anvil_model_release(models[0]);
  anvil_model_release(models[1]);
}

// The reason a chunk writes into the invocation's error buffer becomes the
// status message.
TEST(Instance, TheCodesReasonBecomesTheMessage) {
  std::vector<unsigned char> bytes = standInArtifact(kManifest);
  anvil_model_options options{};
  options.num_threads = 3;
  anvil_model *model = nullptr;
  ASSERT_EQ(openModel(bytes, &options, &model), "");
  anvil_status s =
      anvil_model_run(model, "fail_in_chunk", nullptr, 0, nullptr, 0);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_EXECUTION_FAILED);
  EXPECT_EQ(takeMessage(s),
            "entry point 'fail_in_chunk' failed: iteration 63 is out of range");
  anvil_model_release(model);
}

// A kernel helper's fail() inside a worker's chunk reaches the status.
TEST(Instance, AFailureInsideAWorkerChunkIsReported) {
  const char *manifest = R"({
    "manifest_version": 2, "target": {"name": "cpu"},
    "entry_points": [{"name": "fail_on_worker", "inputs": [],
      "outputs": [{"name": "ran_by", "dtype": "i64", "shape": [1]}]}]})";
  std::vector<unsigned char> bytes =
      standInArtifact(manifest, ANVIL_TEST_CHUNK_FAILURE_KERNEL);
  anvil_model_options options{};
  options.num_threads = 2;
  anvil_model *model = nullptr;
  ASSERT_EQ(openModel(bytes, &options, &model), "");
  int64_t ranBy = -1;
  const int64_t dims[1] = {1};
  anvil_tensor *t = nullptr;
  ASSERT_EQ(
      anvil_tensor_wrap(ANVIL_DTYPE_I64, 1, dims, &ranBy, sizeof ranBy, &t),
      nullptr);
  anvil_status s = anvil_model_run(model, "fail_on_worker", nullptr, 0, &t, 1);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_EXECUTION_FAILED);
  EXPECT_EQ(takeMessage(s), "entry point 'fail_on_worker' failed: gather: "
                            "index 63 is out of range");
  EXPECT_EQ(ranBy, 1) << "iteration 63 should have run on the worker";
  anvil_tensor_release(t);
  anvil_model_release(model);
}

// Code built against ABI 1 in an artifact whose header says 2: read with
// the version-3 layout its table has struct_size 1 and version 1, and it is
// refused before any of its code runs.
TEST(Instance, ACodeTableOfAnotherLayoutIsRefused) {
  anvil_model *model = nullptr;
  anvil_status_code code;
  EXPECT_EQ(openModel(standInArtifact(R"({"manifest_version": 2,
                "target": {"name": "cpu"}, "entry_points": [
                {"name": "main", "inputs": [], "outputs": []}]})",
                                      ANVIL_TEST_ABI1_TABLE_KERNEL),
                      nullptr, &model, &code),
            "the code section's table is malformed or has another ABI "
            "version");
  EXPECT_EQ(code, ANVIL_INVALID_ARTIFACT);
  EXPECT_EQ(model, nullptr);
}

TEST(Instance, BadOptionsAreRefused) {
  anvil_instance *instance = nullptr;
  anvil_instance_options options{0, 2};
  anvil_status s = anvil_instance_create(&options, &instance);
  EXPECT_EQ(anvil_status_get_code(s), ANVIL_INVALID_ARGUMENT);
  EXPECT_EQ(takeMessage(s), "anvil_instance_options.struct_size is 0; set it "
                            "to sizeof(anvil_instance_options)");
  options = {sizeof options, -1};
  s = anvil_instance_create(&options, &instance);
  EXPECT_EQ(takeMessage(s), "num_threads is negative");
  EXPECT_EQ(instance, nullptr);

  ASSERT_EQ(takeMessage(anvil_instance_create(nullptr, &instance)), "");
  EXPECT_EQ(anvil_instance_thread_count(instance),
            std::max(1u, std::thread::hardware_concurrency()));
  anvil_model_options modelOptions{};
  modelOptions.instance = instance;
  modelOptions.num_threads = 2;
  anvil_model *model = nullptr;
  EXPECT_EQ(openModel(standInArtifact(kManifest), &modelOptions, &model),
            "num_threads must be 0 with an instance: the instance's threads "
            "run the model");
  EXPECT_EQ(model, nullptr);
  anvil_instance_release(instance);
  anvil_instance_release(nullptr);
}

} // namespace
