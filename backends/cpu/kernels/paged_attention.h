// paged_attention.h - the paged KV cache: writing new K/V rows at their
// slots, and attention of a flattened token batch through block tables
// (PagedAttention, Kwon et al. 2023; DESIGN "Execution model for decoder
// LLMs").
#ifndef ANVIL_CPU_KERNELS_PAGED_ATTENTION_H
#define ANVIL_CPU_KERNELS_PAGED_ATTENTION_H

#include "common.h"

#include <cstdio>

namespace anvil {
namespace cpu {

/// pool[slot / block_size, slot % block_size, :] = rows[t, :] for each
/// token t with slot = slots[t] >= 0 (a negative slot is a padding token).
/// A slot outside the pool fails the run: the engine's slot mapping is
/// input, not trusted.
template <class T, class S>
int kv_write(const anvil_host_api *host, const KvWriteParams &p, const T *rows,
             const S *slots, T *pool) {
  const int64_t capacity = p.num_blocks * p.block_size;
  for (int64_t t = 0; t < p.tokens; ++t) {
    int64_t slot = static_cast<int64_t>(slots[t]);
    if (slot < 0)
      continue;
    if (slot >= capacity) {
      char message[160];
      std::snprintf(message, sizeof message,
                    "kv_write: slot %lld of token %lld is outside the KV pool "
                    "of %lld blocks",
                    (long long)slot, (long long)t, (long long)p.num_blocks);
      return fail(host, message);
    }
    const T *src = rows + t * p.row_size;
    T *dst = pool + slot * p.row_size;
    for (int64_t i = 0; i < p.row_size; ++i)
      dst[i] = src[i];
  }
  return 0;
}

/// out[t, h] = softmax_j(scale q[t,h] . k[s, j, g]) v[s, j, g] over the keys
/// j of sequence s = seq_of_token[t] at positions window_start..positions[t],
/// read from the pools through block_tables[s] (g = h / (q_heads/kv_heads)).
/// Scores and the softmax are in double, as the dense attention kernel, so
/// a paged step computes what the fixed-shape graph does.
template <class T, class I, class P, class Q>
int paged_attention(const anvil_host_api *host, const PagedAttentionParams &p,
                    const T *q, const T *key_pool, const T *value_pool,
                    const I *block_tables, const I *context_lens,
                    const P *positions, const Q *seq_of_token, T *out) {
  const int64_t group = p.q_heads / p.kv_heads;
  const int64_t k_row = p.kv_heads * p.head_dim;
  const int64_t v_row = p.kv_heads * p.value_dim;
  // Check the batch's indices once, before any reads.
  for (int64_t t = 0; t < p.tokens; ++t) {
    int64_t s = static_cast<int64_t>(seq_of_token[t]);
    int64_t pos = static_cast<int64_t>(positions[t]);
    char message[200];
    if (s < 0 || s >= p.seqs) {
      std::snprintf(message, sizeof message,
                    "paged_attention: token %lld belongs to sequence %lld of "
                    "%lld",
                    (long long)t, (long long)s, (long long)p.seqs);
      return fail(host, message);
    }
    int64_t len = static_cast<int64_t>(context_lens[s]);
    if (pos < 0 || pos >= len || len > p.max_blocks * p.block_size) {
      std::snprintf(message, sizeof message,
                    "paged_attention: token %lld at position %lld of a "
                    "sequence with %lld keys (at most %lld)",
                    (long long)t, (long long)pos, (long long)len,
                    (long long)(p.max_blocks * p.block_size));
      return fail(host, message);
    }
    for (int64_t blk = 0; blk <= pos / p.block_size; ++blk) {
      int64_t id = static_cast<int64_t>(block_tables[s * p.max_blocks + blk]);
      if (id < 0 || id >= p.num_blocks) {
        std::snprintf(message, sizeof message,
                      "paged_attention: block table of sequence %lld names "
                      "block %lld of a pool of %lld",
                      (long long)s, (long long)id, (long long)p.num_blocks);
        return fail(host, message);
      }
    }
  }
  const int64_t rows = p.tokens * p.q_heads;
  parallel_for(host, rows, 1, [&](int64_t begin, int64_t end, int thread) {
    int64_t most = p.max_blocks * p.block_size;
    double *scores = scratch<double>(host, thread, most + p.value_dim);
    if (!scores) {
      fail(host, "paged_attention: out of scratch memory");
      return;
    }
    double *acc = scores + most;
    for (int64_t row = begin; row < end; ++row) {
      int64_t t = row / p.q_heads, h = row % p.q_heads, g = h / group;
      int64_t s = static_cast<int64_t>(seq_of_token[t]);
      int64_t last = static_cast<int64_t>(positions[t]);
      int64_t first =
          p.window > 0 && last - p.window + 1 > 0 ? last - p.window + 1 : 0;
      const I *table = block_tables + s * p.max_blocks;
      const T *qi = q + (t * p.q_heads + h) * p.head_dim;
      double best = -std::numeric_limits<double>::infinity();
      // The pool slot of the sequence's key j.
      auto slot = [&](int64_t j) {
        return static_cast<int64_t>(table[j / p.block_size]) * p.block_size +
               j % p.block_size;
      };
      for (int64_t j = first; j <= last; ++j) {
        const T *kj = key_pool + slot(j) * k_row + g * p.head_dim;
        double dot = 0;
        for (int64_t d = 0; d < p.head_dim; ++d)
          dot += double(qi[d]) * double(kj[d]);
        dot *= p.scale;
        if (p.softcap > 0)
          dot = p.softcap * std::tanh(dot / p.softcap);
        scores[j - first] = dot;
        best = dot > best ? dot : best;
      }
      double sum = 0;
      for (int64_t j = first; j <= last; ++j) {
        scores[j - first] = std::exp(scores[j - first] - best);
        sum += scores[j - first];
      }
      for (int64_t d = 0; d < p.value_dim; ++d)
        acc[d] = 0;
      for (int64_t j = first; j <= last; ++j) {
        const T *vj = value_pool + slot(j) * v_row + g * p.value_dim;
        double w = scores[j - first] / sum;
        for (int64_t d = 0; d < p.value_dim; ++d)
          acc[d] += w * double(vj[d]);
      }
      T *o = out + (t * p.q_heads + h) * p.value_dim;
      for (int64_t d = 0; d < p.value_dim; ++d)
        o[d] = static_cast<T>(acc[d]);
    }
  });
  return run_failed(host) ? 1 : 0;
}

} // namespace cpu
} // namespace anvil

#endif // ANVIL_CPU_KERNELS_PAGED_ATTENTION_H
