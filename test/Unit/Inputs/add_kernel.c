/* Stands in for generated code in the runtime's tests: a shared object
 * with the code ABI of runtime/include/anvil/abi.h.
 *   main(a, b) = a + b + w, with w (6 floats) from the weights section,
 *   computed through the host's parallel_for (no arena) or staged in the
 *   arena;
 *   broken() fails with code 7. */
#include "anvil/abi.h"

typedef struct {
  const float *a, *b, *w;
  float *y;
} add_args;

static void add_chunk(void *arg, int64_t begin, int64_t end) {
  add_args *args = (add_args *)arg;
  for (int64_t i = begin; i < end; ++i)
    args->y[i] = args->a[i] + args->b[i] + args->w[i];
}

/* With an arena (arena_bytes >= 24), a + b is staged there first and read
 * back after a pause: runs that shared an arena would see each other's
 * sums, which the runtime's concurrency test would catch. */
static int add_main(const anvil_host_api *host, const void *const *inputs,
                    void *const *outputs, void *arena, const void *weights) {
  const float *a = (const float *)inputs[0], *b = (const float *)inputs[1];
  float *y = (float *)outputs[0];
  if (arena) {
    volatile float *staged = (volatile float *)arena;
    for (int i = 0; i < 6; ++i)
      staged[i] = a[i] + b[i];
    for (volatile int spin = 0; spin < 2000; ++spin)
      ;
    for (int i = 0; i < 6; ++i)
      y[i] = staged[i] + ((const float *)weights)[i];
    return 0;
  }
  add_args args = {a, b, (const float *)weights, y};
  host->parallel_for(host->host, 6, add_chunk, &args);
  return 0;
}

static int broken(const anvil_host_api *host, const void *const *inputs,
                  void *const *outputs, void *arena, const void *weights) {
  (void)host, (void)inputs, (void)outputs, (void)arena, (void)weights;
  return 7;
}

static const anvil_code_entry entries[] = {{"main", add_main},
                                           {"broken", broken}};
static const anvil_code_table table = {ANVIL_ABI_VERSION, 2, entries, 0};

__attribute__((visibility("default"))) const anvil_code_table *
anvil_get_code_table(void) {
  return &table;
}
