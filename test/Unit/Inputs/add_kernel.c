/* Stands in for generated code in the runtime's tests: a shared object
 * with the code ABI of runtime/include/anvil/abi.h.
 *   main(a, b) = a + b + w, with w (6 floats) from the weights section,
 *   computed through the host's parallel_for;
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

static int add_main(const anvil_host_api *host, const void *const *inputs,
                    void *const *outputs, void *arena, const void *weights) {
  (void)arena;
  add_args args = {(const float *)inputs[0], (const float *)inputs[1],
                   (const float *)weights, (float *)outputs[0]};
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
