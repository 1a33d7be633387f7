/* An application embedding the Anvil runtime through its C API.
 *
 *   run_model MODEL.anvil
 *
 * Lists the artifact's entry points and signatures, runs the first entry
 * point on zero-filled inputs (run-time sizes at their minimum), and prints
 * the first values of each output.
 * Built and run by the test suite (test/Tools/example-app.test). */
#include "anvil/anvil.h"

#include <stdio.h>

static int report(anvil_status status) {
  fprintf(stderr, "run_model: %s\n", anvil_status_get_message(status));
  anvil_status_free(status);
  return 1;
}

static void print_info(const char *kind, const anvil_tensor_info *info) {
  printf("  %s %s: %s[", kind, info->name, anvil_dtype_name(info->dtype));
  for (size_t d = 0; d < info->rank; ++d)
    printf("%s%lld", d ? "x" : "", (long long)info->dims[d]);
  printf("]\n");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: run_model MODEL.anvil\n");
    return 2;
  }
  anvil_model *model = NULL;
  anvil_status status = anvil_model_open_file(argv[1], NULL, &model);
  if (status)
    return report(status);
  size_t count = anvil_model_entry_point_count(model);
  if (count == 0) {
    fprintf(stderr, "run_model: the artifact has no entry points\n");
    anvil_model_release(model);
    return 1;
  }
  const char *entry = anvil_model_entry_point_name(model, 0);
  size_t n_in = 0, n_out = 0;
  if ((status = anvil_model_signature(model, entry, &n_in, &n_out)))
    return report(status);
  printf("entry point %s\n", entry);

  enum { kMaxTensors = 64 };
  anvil_tensor *inputs[kMaxTensors] = {0}, *outputs[kMaxTensors] = {0};
  int rc = 0;
  if (n_in > kMaxTensors || n_out > kMaxTensors) {
    fprintf(stderr, "run_model: too many tensors\n");
    rc = 1;
    goto done;
  }
  for (size_t i = 0; i < n_in + n_out; ++i) {
    int is_output = i >= n_in;
    size_t index = is_output ? i - n_in : i;
    anvil_tensor_info info;
    anvil_tensor **slot = is_output ? &outputs[index] : &inputs[index];
    if ((status =
             anvil_model_tensor_info(model, entry, is_output, index, &info))) {
      rc = report(status);
      goto done;
    }
    /* A run-time size (dim -1) takes its smallest value here; a real
     * application takes it from its data (outputs: from the inputs). */
    for (size_t d = 0; d < info.rank; ++d) {
      int64_t size = -1;
      anvil_size_info bounds;
      if (info.dims[d] >= 0)
        continue;
      if ((status = anvil_model_dim_size(model, entry, is_output, index, d,
                                         &size)) ||
          (status =
               anvil_model_size_info(model, entry, (size_t)size, &bounds))) {
        rc = report(status);
        goto done;
      }
      info.dims[d] = bounds.min;
    }
    if ((status =
             anvil_tensor_create(info.dtype, info.rank, info.dims, slot))) {
      rc = report(status);
      goto done;
    }
    print_info(is_output ? "output" : "input", &info);
  }
  if ((status = anvil_model_run(model, entry, inputs, n_in, outputs, n_out))) {
    rc = report(status);
    goto done;
  }
  for (size_t i = 0; i < n_out; ++i) {
    if (anvil_tensor_dtype(outputs[i]) != ANVIL_DTYPE_F32)
      continue;
    const float *values = (const float *)anvil_tensor_data(outputs[i]);
    size_t n = anvil_tensor_byte_size(outputs[i]) / sizeof(float);
    printf("output %zu:", i);
    for (size_t k = 0; k < n && k < 8; ++k)
      printf(" %g", values[k]);
    printf("\n");
  }
done:
  for (size_t i = 0; i < kMaxTensors; ++i) {
    anvil_tensor_release(inputs[i]);
    anvil_tensor_release(outputs[i]);
  }
  anvil_model_release(model);
  return rc;
}
