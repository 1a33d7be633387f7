/* Stands in for generated code in the runtime's tests: a shared object
 * with the code ABI of runtime/include/anvil/abi.h (version 3), recording
 * what each entry point was "compiled" for as generated code does (the
 * tests' manifests must agree with it; see the table at the end).
 *   main(a[2, 3], b[2, 3]) = a + b + w, with w (6 floats) from the weights
 *     section, computed through the host's parallel_for (no arena);
 *   staged(a, b): the same, staged in a 256-byte arena;
 *   rows(a[R, 3], b[R, 3]): main's function with a run-time size R in
 *     [1, 2] (only R = 2 computes all six values);
 *   broken() fails with code 7 and no reason;
 *   threads() -> ids[64, 2]: for each of 64 iterations (chunks of one, each
 *     pausing ~0.2 ms so that every worker takes some), the OS thread that
 *     ran it and the thread number the host passed;
 *   fail_in_chunk() fails from the chunk holding iteration 63 with the
 *     reason "iteration 63 is out of range";
 *   scaled(x[S, 4]) -> y[S, 4] = x + S, where S is sizes[0] (run-time
 *     sizes reach the code);
 *   bad_states, bad_inputs: malformed records (never run). */
#include "anvil/abi.h"
#include "anvil/anvil.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

typedef struct {
  const float *a, *b, *w;
  float *y;
} add_args;

static void add_chunk(void *arg, int64_t begin, int64_t end, int thread) {
  add_args *args = (add_args *)arg;
  (void)thread;
  for (int64_t i = begin; i < end; ++i)
    args->y[i] = args->a[i] + args->b[i] + args->w[i];
}

/* With an arena (arena_bytes >= 24), a + b is staged there first and read
 * back after a pause: runs that shared an arena would see each other's
 * sums, which the runtime's concurrency test would catch. */
static int add_main(const anvil_host_api *host, const anvil_invocation *inv) {
  const float *a = (const float *)inv->inputs[0];
  const float *b = (const float *)inv->inputs[1];
  float *y = (float *)inv->outputs[0];
  if (inv->arena) {
    volatile float *staged = (volatile float *)inv->arena;
    for (int i = 0; i < 6; ++i)
      staged[i] = a[i] + b[i];
    for (volatile int spin = 0; spin < 2000; ++spin)
      ;
    for (int i = 0; i < 6; ++i)
      y[i] = staged[i] + ((const float *)inv->weights)[i];
    return 0;
  }
  add_args args = {a, b, (const float *)inv->weights, y};
  host->parallel_for(host->host, 6, 1, add_chunk, &args);
  return 0;
}

static int broken(const anvil_host_api *host, const anvil_invocation *inv) {
  (void)host, (void)inv;
  return 7;
}

static void ids_chunk(void *arg, int64_t begin, int64_t end, int thread) {
  int64_t *ids = (int64_t *)arg;
  for (int64_t i = begin; i < end; ++i) {
    struct timespec pause = {0, 200000};
    nanosleep(&pause, NULL);
    ids[2 * i] = (int64_t)(uintptr_t)pthread_self();
    ids[2 * i + 1] = thread;
  }
}

static int threads(const anvil_host_api *host, const anvil_invocation *inv) {
  host->parallel_for(host->host, 64, 1, ids_chunk, inv->outputs[0]);
  return 0;
}

static void failing_chunk(void *arg, int64_t begin, int64_t end, int thread) {
  const anvil_invocation *inv = (const anvil_invocation *)arg;
  (void)thread;
  if (begin <= 63 && 63 < end)
    strncpy(inv->error, "iteration 63 is out of range", inv->error_size - 1);
}

static int fail_in_chunk(const anvil_host_api *host,
                         const anvil_invocation *inv) {
  host->parallel_for(host->host, 64, 1, failing_chunk, (void *)inv);
  return inv->error[0] ? 1 : 0;
}

static int scaled(const anvil_host_api *host, const anvil_invocation *inv) {
  (void)host;
  if (inv->num_sizes != 1 || inv->num_inputs != 1 || inv->num_outputs != 1) {
    strncpy(inv->error, "scaled: wrong invocation", inv->error_size - 1);
    return 1;
  }
  int64_t s = inv->sizes[0];
  const float *x = (const float *)inv->inputs[0];
  float *y = (float *)inv->outputs[0];
  for (int64_t i = 0; i < s * 4; ++i)
    y[i] = x[i] + (float)s;
  return 0;
}

/* What each entry point was compiled for. */
#define WEIGHT_BYTES 24 /* w: 6 floats */
static const int64_t dims_2x3[] = {2, 3};
static const int64_t dims_rx3[] = {ANVIL_CODE_DIM_SIZE(0), 3};
static const int64_t dims_64x2[] = {64, 2};
static const int64_t dims_sx4[] = {ANVIL_CODE_DIM_SIZE(0), 4};
static const anvil_code_tensor f32_2x3[] = {{ANVIL_DTYPE_F32, 2, dims_2x3},
                                            {ANVIL_DTYPE_F32, 2, dims_2x3}};
static const anvil_code_tensor f32_rx3[] = {{ANVIL_DTYPE_F32, 2, dims_rx3},
                                            {ANVIL_DTYPE_F32, 2, dims_rx3}};
static const anvil_code_tensor i64_64x2[] = {{ANVIL_DTYPE_I64, 2, dims_64x2}};
static const anvil_code_tensor f32_sx4[] = {{ANVIL_DTYPE_F32, 2, dims_sx4}};
static const anvil_code_size rows_bounds[] = {{1, 2}};
static const anvil_code_size s_bounds[] = {{1, 8}};

static const anvil_code_entry entries[] = {
    {"main", add_main, 0, WEIGHT_BYTES, 0, 2, 1, 0, 0, f32_2x3, f32_2x3},
    {"staged", add_main, 256, WEIGHT_BYTES, 0, 2, 1, 0, 0, f32_2x3, f32_2x3},
    {"rows", add_main, 0, WEIGHT_BYTES, 1, 2, 1, 0, rows_bounds, f32_rx3,
     f32_rx3},
    {"broken", broken, 0, WEIGHT_BYTES, 0, 0, 0, 0, 0, 0, 0},
    {"threads", threads, 0, WEIGHT_BYTES, 0, 0, 1, 0, 0, 0, i64_64x2},
    {"fail_in_chunk", fail_in_chunk, 0, WEIGHT_BYTES, 0, 0, 0, 0, 0, 0, 0},
    {"scaled", scaled, 0, WEIGHT_BYTES, 1, 1, 1, 0, s_bounds, f32_sx4, f32_sx4},
    /* Malformed records, which the loader must refuse: a state count
     * and an input count without their arrays. */
    {"bad_states", broken, 0, WEIGHT_BYTES, 0, 0, 0, 1, 0, 0, 0},
    {"bad_inputs", broken, 0, WEIGHT_BYTES, 0, 1, 0, 0, 0, 0, 0}};
static const anvil_code_table table = {sizeof(anvil_code_table),
                                       ANVIL_ABI_VERSION, 9, entries, 0};

__attribute__((visibility("default"))) const anvil_code_table *
anvil_get_code_table(void) {
  return &table;
}
