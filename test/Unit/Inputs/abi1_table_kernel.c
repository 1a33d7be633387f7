/* Stands in for code compiled against code ABI 1 inside an artifact whose
 * header claims ABI 3 (a hand-edited or badly built file): its table has
 * the version-1 layout, {abi_version = 1, entry_count, entries, init}, with
 * no struct_size. The loader must refuse it, not call into it. */
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;
  int (*fn)(void);
} v1_entry;

typedef struct {
  uint32_t abi_version;
  uint32_t entry_count;
  const v1_entry *entries;
  int (*init)(const void *host);
} v1_table;

static int never_called(void) { return 99; }

static const v1_entry entries[] = {{"main", never_called}};
static const v1_table table = {1, 1, entries, NULL};

__attribute__((visibility("default"))) const v1_table *
anvil_get_code_table(void) {
  return &table;
}
