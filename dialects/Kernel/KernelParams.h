/*===- KernelParams.h - by-value parameter structs of every kernel -*- C++ -*-=
 *
 * One plain struct per kernel of KernelCatalog.def, shared by every target's
 * kernel library (cpu today; CUDA, HIP and HLS kernels read the same
 * structs): scalars and fixed-size arrays only, so a struct can be copied to
 * a device or passed by value to a kernel. No pointers into host memory.
 *
 *   struct MatmulParams { int64_t m, n, k; bool transpose_rhs; ...
 *                         int64_t batch[8]; ... };
 *
 * Generated code fills every field, in this order (the catalog's), from the
 * launch's params; the `kernel.launch` verifier makes sure none is missing.
 *===----------------------------------------------------------------------===*/

#ifndef ANVIL_KERNEL_PARAMS_H
#define ANVIL_KERNEL_PARAMS_H

#include <stdint.h>

/* Str params (a kernel's mode or kind) hold at most this many bytes with
 * their terminating zero. */
#define ANVIL_KERNEL_MAX_STRING 16

#define ANVIL_KERNEL_FIELD_Int(name, capacity) int64_t name;
#define ANVIL_KERNEL_FIELD_Bool(name, capacity) bool name;
#define ANVIL_KERNEL_FIELD_Real(name, capacity) double name;
#define ANVIL_KERNEL_FIELD_Str(name, capacity)                                 \
  char name[ANVIL_KERNEL_MAX_STRING];
#define ANVIL_KERNEL_FIELD_Ints(name, capacity) int64_t name[capacity];
#define ANVIL_KERNEL_FIELD_Reals(name, capacity) double name[capacity];
#define ANVIL_KERNEL_FIELD(kind, name, when, capacity)                         \
  ANVIL_KERNEL_FIELD_##kind(name, capacity)

namespace anvil {

#define ANVIL_KERNEL(name, Camel, minInputs, maxInputs, outputs, inPlace,      \
                     PARAMS)                                                   \
  struct Camel##Params {                                                       \
    PARAMS(ANVIL_KERNEL_FIELD)                                                 \
  };
#include "KernelCatalog.def"

} // namespace anvil

#undef ANVIL_KERNEL_FIELD
#undef ANVIL_KERNEL_FIELD_Int
#undef ANVIL_KERNEL_FIELD_Bool
#undef ANVIL_KERNEL_FIELD_Real
#undef ANVIL_KERNEL_FIELD_Str
#undef ANVIL_KERNEL_FIELD_Ints
#undef ANVIL_KERNEL_FIELD_Reals

#endif /* ANVIL_KERNEL_PARAMS_H */
