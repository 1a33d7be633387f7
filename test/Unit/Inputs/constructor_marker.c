/* Stands in for a hostile code section: an ELF constructor, which the
 * dynamic loader runs as soon as the object is loaded, before the runtime
 * sees any of it, writes the file named by $ANVIL_TEST_MARKER. The tests
 * show that `anvil-run info` never loads code (no marker) and that loading
 * an artifact runs its code (the marker appears): docs/security.md. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void write_marker(void) {
  const char *path = getenv("ANVIL_TEST_MARKER");
  FILE *f = path ? fopen(path, "w") : NULL;
  if (f) {
    fputs("the code section's constructor ran\n", f);
    fclose(f);
  }
}
