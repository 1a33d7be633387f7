/*===- abi.h - the ABI between generated code and the runtime -----*- C -*-===
 *
 * Generated code (the artifact's code section, a shared object on the CPU
 * target) exports one function, anvil_get_code_table(), returning a table of
 * its entry points. The runtime calls init() once with the host API (its
 * thread pool, per-thread scratch, logging), then entry points with one
 * anvil_invocation each: buffers the runtime owns (inputs, outputs, in-out
 * state, one scratch arena of the size the manifest states, the mapped
 * weights section), the run-time sizes, and an error buffer. Generated code
 * allocates nothing.
 *
 * Versioning: ANVIL_ABI_VERSION is the one version constant (the artifact
 * header's abi_version is this number). Structs carry struct_size and grow
 * only at the end: a reader checks struct_size before it touches a field
 * added later. A change that is not such an append bumps the version, and
 * the loader refuses artifacts of any other version.
 *
 * Trust: loading code runs it (the dynamic loader runs the object's ELF
 * constructors before the runtime sees its table). The record each entry
 * carries (anvil_code_entry) protects against a manifest that disagrees
 * with the code, not against hostile code: load only trusted artifacts.
 *===----------------------------------------------------------------------===*/

#ifndef ANVIL_ABI_H
#define ANVIL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1: entry(host, inputs, outputs, arena, weights), errors through log.
 * 2: entry(host, invocation); host API with struct_size, thread index,
 *    grain, scratch, log levels; invocation with sizes, states, stream and
 *    an error buffer.
 * 3: each anvil_code_entry records what its function was compiled for
 *    (signature, sizes' bounds, arena and weights bytes), which the loader
 *    checks the manifest against; an array element cannot grow by the
 *    struct_size rule, hence the new version.
 * 4: entry points take in-out state buffers (the paged KV pool), recorded
 *    in anvil_code_entry's num_states and states. */
#define ANVIL_ABI_VERSION 4

/* One chunk [begin, end) of a parallel loop, run on the runtime's thread
 * number `thread` (0 <= thread < num_threads). Within one parallel_for call
 * no two chunks that run at the same time have the same thread number, so
 * per-thread state (scratch, partial sums) can be indexed by it. */
typedef void (*anvil_parallel_fn)(void *arg, int64_t begin, int64_t end,
                                  int thread);

typedef enum anvil_log_level {
  ANVIL_LOG_ERROR = 0,
  ANVIL_LOG_WARNING = 1,
  ANVIL_LOG_INFO = 2,
  ANVIL_LOG_DEBUG = 3,
} anvil_log_level;

/* What the runtime lends generated code. One table per device of an
 * instance, shared by every model opened on it; it stays valid (and
 * constant) while any of those models is open. Every function is
 * safe to call from several threads at once. */
typedef struct anvil_host_api {
  uint32_t struct_size; /* sizeof(anvil_host_api) of the runtime */
  uint32_t abi_version; /* ANVIL_ABI_VERSION of the runtime */
  void *host;           /* the first argument of every function below */
  /* Threads that run parallel loops, the calling thread included (>= 1). */
  int32_t num_threads;
  /* Runs fn over [0, n) in chunks of at least `grain` iterations (the last
   * one may be shorter; grain <= 1 means any size) on the runtime's threads
   * and returns when every chunk is done. n <= grain runs as one chunk on
   * the calling thread. A call made from inside a chunk runs inline. */
  void (*parallel_for)(void *host, int64_t n, int64_t grain,
                       anvil_parallel_fn fn, void *arg);
  /* At least `bytes` of 64-byte-aligned memory private to thread number
   * `thread` (the one passed to the running chunk), or NULL if out of memory.
   * It stays valid until the next scratch call for that thread; its content
   * is undefined. Call it only from the thread that runs the chunk. */
  void *(*scratch)(void *host, int thread, size_t bytes);
  /* A message for the application's log (not an error: see
   * anvil_invocation.error). */
  void (*log)(void *host, anvil_log_level level, const char *message);
  /* Device functions for targets with one (memory, launch, sync); NULL on
   * the CPU. Its layout belongs to the device's own header. */
  const void *device;
} anvil_host_api;

/* One call of an entry point. Built by the runtime for each run; valid only
 * during the call. */
typedef struct anvil_invocation {
  uint32_t struct_size; /* sizeof(anvil_invocation) of the runtime */
  uint32_t reserved;    /* 0 */
  /* Input and output buffers in the manifest's signature order. */
  const void *const *inputs;
  size_t num_inputs;
  void *const *outputs;
  size_t num_outputs;
  /* In-out buffers the runtime owns across runs (the paged KV pool), in
   * the manifest's "states" order; the code reads and writes them. */
  void *const *states;
  size_t num_states;
  /* Run-time sizes: sizes[i] is the value of entry `i` of the entry
   * point's manifest "sizes" table, already checked against its bounds. */
  const int64_t *sizes;
  size_t num_sizes;
  /* Scratch memory of the manifest's arena_bytes (64-byte aligned; NULL
   * when 0) and the weights section (mapped, read only). */
  void *arena;
  const void *weights;
  /* The device stream the run is ordered on; NULL on the CPU. */
  void *stream;
  /* On failure generated code writes a NUL-terminated reason here (at most
   * error_size bytes, the NUL included) before it returns nonzero. The
   * runtime zeroes error[0] before the call. */
  char *error;
  size_t error_size;
} anvil_invocation;

/* Returns 0 on success; nonzero is reported as an execution error with the
 * text of invocation->error. */
typedef int (*anvil_entry_fn)(const anvil_host_api *host,
                              const anvil_invocation *invocation);

/* A run-time size as the code was compiled for it: inclusive bounds. The
 * arena is planned for the maxima, so the manifest must state the same. */
typedef struct anvil_code_size {
  int64_t min;
  int64_t max;
} anvil_code_size;

/* The dims value of a dim that is run-time size number `k` of its entry. */
#define ANVIL_CODE_DIM_SIZE(k) (-1 - (int64_t)(k))

/* One input or output as the code was compiled for it. */
typedef struct anvil_code_tensor {
  int32_t dtype; /* an anvil_dtype value (anvil/dtypes.def) */
  uint32_t rank;
  /* `rank` values (NULL when rank is 0): a static dim (>= 0), or
   * ANVIL_CODE_DIM_SIZE(k) for a dim that is run-time size k. */
  const int64_t *dims;
} anvil_code_tensor;

/* One entry point and the record of what it was compiled for. The loader
 * refuses an artifact whose manifest disagrees with any part of the record
 * (naming the entry point and the field) before any entry point runs: the
 * code reads and writes buffers of exactly these sizes. */
typedef struct anvil_code_entry {
  const char *name; /* matches the manifest's entry point name */
  anvil_entry_fn fn;
  uint64_t arena_bytes;  /* the scratch the code uses (manifest arena_bytes) */
  uint64_t weight_bytes; /* the weights section's size the code reads from */
  uint32_t num_sizes;
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t num_states;
  const anvil_code_size *sizes;     /* num_sizes, in sizes[] order */
  const anvil_code_tensor *inputs;  /* num_inputs, in signature order */
  const anvil_code_tensor *outputs; /* num_outputs, in signature order */
  const anvil_code_tensor *states;  /* num_states, in signature order */
} anvil_code_entry;

/* What generated code exports. Later fields go at the end; the runtime
 * reads only what struct_size covers. */
typedef struct anvil_code_table {
  uint32_t struct_size; /* sizeof(anvil_code_table) of the code */
  uint32_t abi_version; /* ANVIL_ABI_VERSION the code was compiled against */
  uint32_t entry_count;
  const anvil_code_entry *entries;
  /* Optional (may be NULL): called once after loading. */
  int (*init)(const anvil_host_api *host);
} anvil_code_table;

/* The one symbol generated code exports. */
#define ANVIL_CODE_TABLE_SYMBOL "anvil_get_code_table"
typedef const anvil_code_table *(*anvil_code_table_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* ANVIL_ABI_H */
