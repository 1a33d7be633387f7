//===- KvStateLayoutTest.cpp - the engine's layout of the KV states -------===//
//
// planKvStates (runtime/engine/ArtifactStepModel.h): each state of a paged
// step is kv_blocks blocks of its own bytes (f32, f16 or i8 pools, and an
// int8 cache's f32 scales), laid out as aligned slices of one allocation;
// layouts the engine was not built for are refused with the reason.
//
//===----------------------------------------------------------------------===//

#include "runtime/engine/ArtifactStepModel.h"

#include <gtest/gtest.h>

namespace {

using anvil::engine::KvStateLayout;
using anvil::engine::planKvStates;
using anvil::runtime::EntryPoint;
using anvil::runtime::LlmInfo;
using anvil::runtime::TensorSpec;

constexpr int kBlocksSize = 3; // e.sizes index of kv_blocks

LlmInfo llm(int64_t pools) {
  LlmInfo info;
  info.present = true;
  info.blockSize = 16;
  info.kvHeads = 4;
  info.headDim = 32;
  info.numPools = pools;
  return info;
}

TensorSpec pool(const std::string &name, anvil_dtype dtype) {
  return {"kv_pool." + name, dtype, {-1, 16, 4, 32}, {kBlocksSize, -1, -1, -1}};
}
TensorSpec scales(const std::string &name) {
  return {
      "kv_scales." + name, ANVIL_DTYPE_F32, {-1, 16, 4}, {kBlocksSize, -1, -1}};
}

EntryPoint step(std::vector<TensorSpec> states) {
  EntryPoint e;
  e.name = "main";
  e.states = std::move(states);
  return e;
}

TEST(KvStateLayout, FloatPoolsAreEqualSlices) {
  for (auto [dtype, bytes] :
       {std::pair<anvil_dtype, int64_t>{ANVIL_DTYPE_F32, 4},
        {ANVIL_DTYPE_F16, 2}}) {
    KvStateLayout layout;
    EXPECT_EQ(planKvStates(step({pool("k", dtype), pool("v", dtype)}), llm(2),
                           kBlocksSize, layout),
              "");
    int64_t block = 16 * 4 * 32 * bytes;
    EXPECT_EQ(layout.blockBytes, (std::vector<int64_t>{block, block}));
    EXPECT_EQ(layout.bytesPerBlock, 2 * block);
    uint64_t total = 0;
    EXPECT_EQ(layout.offsets(5, total),
              (std::vector<uint64_t>{0, uint64_t(5 * block)}));
    EXPECT_EQ(total, uint64_t(10 * block));
  }
}

// int8: 1 byte per element plus 4 per (position, head) of scales.
TEST(KvStateLayout, Int8PoolsCountTheirScales) {
  KvStateLayout layout;
  EXPECT_EQ(
      planKvStates(step({pool("k", ANVIL_DTYPE_I8), pool("v", ANVIL_DTYPE_I8),
                         scales("k"), scales("v")}),
                   llm(2), kBlocksSize, layout),
      "");
  EXPECT_EQ(layout.blockBytes, (std::vector<int64_t>{2048, 2048, 256, 256}));
  EXPECT_EQ(layout.bytesPerBlock, 2 * 2048 + 2 * 256);
  uint64_t total = 0;
  EXPECT_EQ(layout.offsets(3, total),
            (std::vector<uint64_t>{0, 6144, 12288, 13056}));
  EXPECT_EQ(total, 13824u);
  // Every slice starts 64-byte aligned, also when the one before it ends
  // off that.
  layout.blockBytes = {5, 3};
  EXPECT_EQ(layout.offsets(3, total), (std::vector<uint64_t>{0, 64}));
  EXPECT_EQ(total, 128u);
}

TEST(KvStateLayout, RefusesLayoutsItCannotDrive) {
  KvStateLayout layout;
  auto plan = [&](std::vector<TensorSpec> states, int64_t pools = 2) {
    return planKvStates(step(std::move(states)), llm(pools), kBlocksSize,
                        layout);
  };
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_I8), pool("v", ANVIL_DTYPE_I8)}),
            "has 2 states, not the 2 KV pools the manifest's llm describes "
            "and their scales");
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_F32), pool("v", ANVIL_DTYPE_F32),
                  scales("k"), scales("v")}),
            "has 4 states, not the 2 KV pools the manifest's llm describes");
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_F32), pool("v", ANVIL_DTYPE_F16)}),
            "has KV pool 'kv_pool.v' of dtype f16, not f32 like "
            "'kv_pool.k'");
  TensorSpec f16Scales = scales("v");
  f16Scales.dtype = ANVIL_DTYPE_F16;
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_I8), pool("v", ANVIL_DTYPE_I8),
                  scales("k"), f16Scales}),
            "has KV scales 'kv_scales.v' of dtype f16, not f32 (an int8 KV "
            "pool's scales)");
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_I8), pool("v", ANVIL_DTYPE_I8),
                  scales("k"), pool("v2", ANVIL_DTYPE_F32)}),
            "has KV scales 'kv_pool.v2' of another layout than [kv_blocks, "
            "block_size, kv_heads]");
  TensorSpec wide = pool("v", ANVIL_DTYPE_F32);
  wide.dims[3] = 64;
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_F32), wide}),
            "has KV pool 'kv_pool.v' of another layout than [kv_blocks, "
            "block_size, kv_heads, head_dim]");
  TensorSpec unsized = pool("v", ANVIL_DTYPE_F32);
  unsized.sizeOf[0] = -1; // its first dim is not the kv_blocks size
  EXPECT_EQ(plan({pool("k", ANVIL_DTYPE_F32), unsized}),
            "has KV pool 'kv_pool.v' of another layout than [kv_blocks, "
            "block_size, kv_heads, head_dim]");
  EXPECT_EQ(plan({}, 0), "has no KV pools in the manifest's llm");
}

} // namespace
