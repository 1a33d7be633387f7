/*===- abi.h - the ABI between generated code and the runtime -----*- C -*-===
 *
 * Generated code (the artifact's code section, a shared object on the CPU
 * target) exports one function, anvil_get_code_table(), returning a table of
 * its entry points. The runtime calls init() once with the host API (its
 * thread pool, logging), then entry points with buffers it owns: inputs,
 * outputs, one scratch arena of the size the manifest states, and the
 * mapped weights section. Generated code allocates nothing.
 *
 * Bump ANVIL_ABI_VERSION (and the artifact's abi_version) on any change.
 *===----------------------------------------------------------------------===*/

#ifndef ANVIL_ABI_H
#define ANVIL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANVIL_ABI_VERSION 1

/* Runs fn(arg, begin, end) over [0, n) split across the runtime's threads;
 * returns when all chunks are done. */
typedef void (*anvil_parallel_fn)(void *arg, int64_t begin, int64_t end);

typedef struct anvil_host_api {
  uint32_t abi_version;
  void *host;
  void (*parallel_for)(void *host, int64_t n, anvil_parallel_fn fn, void *arg);
  void (*log)(void *host, const char *message);
} anvil_host_api;

/* Returns 0 on success; nonzero is reported as an execution error. */
typedef int (*anvil_entry_fn)(const anvil_host_api *host,
                              const void *const *inputs, void *const *outputs,
                              void *arena, const void *weights);

typedef struct anvil_code_entry {
  const char *name; /* matches the manifest's entry point name */
  anvil_entry_fn fn;
} anvil_code_entry;

typedef struct anvil_code_table {
  uint32_t abi_version;
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
