# The GoogleTest unit tests, run by lit so one command runs every test.
import lit.formats

config.name = "Anvil-Unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = config.anvil_unit_bin_dir
config.test_exec_root = config.anvil_unit_bin_dir
