/* Stands in for generated code in the runtime's tests: a shared object
 * with the code ABI of runtime/include/anvil/abi.h (version 2).
 *   main(a, b) = a + b + w, with w (6 floats) from the weights section,
 *     computed through the host's parallel_for (no arena) or staged in the
 *     arena;
 *   broken() fails with code 7 and no reason;
 *   threads() -> ids[64, 2]: for each of 64 iterations (chunks of one, each
 *     pausing ~0.2 ms so that every worker takes some), the OS thread that
 *     ran it and the thread number the host passed;
 *   fail_in_chunk() fails from the chunk holding iteration 63 with the
 *     reason "iteration 63 is out of range";
 *   scaled(x[S, 4]) -> y[S, 4] = x + S, where S is sizes[0] (run-time
 *     sizes reach the code). */
#include "anvil/abi.h"

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

static const anvil_code_entry entries[] = {{"main", add_main},
                                           {"broken", broken},
                                           {"threads", threads},
                                           {"fail_in_chunk", fail_in_chunk},
                                           {"scaled", scaled}};
static const anvil_code_table table = {sizeof(anvil_code_table),
                                       ANVIL_ABI_VERSION, 5, entries, 0};

__attribute__((visibility("default"))) const anvil_code_table *
anvil_get_code_table(void) {
  return &table;
}
