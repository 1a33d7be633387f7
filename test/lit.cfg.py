# lit configuration for Anvil's FileCheck, importer, model and tool tests.
import os

import lit.formats
import lit.util

config.name = "Anvil"
config.test_format = lit.formats.ShTest(not lit.util.which("bash"))
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.anvil_obj_root, "test")
# Unit/ is its own suite (GoogleTest); lib/ and Inputs/ hold helpers.
config.excludes = ["Unit", "lib", "Inputs", "CMakeLists.txt", "README.md"]

# Strict FileCheck everywhere (STYLE.md).
config.environment["FILECHECK_OPTS"] = (
    "-enable-var-scope --allow-unused-prefixes=false")

path = [config.anvil_tools_dir, config.llvm_tools_dir,
        os.path.dirname(config.python_executable),
        config.environment.get("PATH", os.environ.get("PATH", ""))]
config.environment["PATH"] = os.pathsep.join(path)

src = config.anvil_src_root
python = config.python_executable
config.substitutions.append(("%python", python))
config.substitutions.append(
    ("%onnx-text", f"{python} {src}/test/lib/onnx_text.py"))
config.substitutions.append(("%models", f"{src}/models"))
config.substitutions.append(("%anvil_src", src))
config.substitutions.append(("%anvil_obj", config.anvil_obj_root))

if config.anvil_fuzzers in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("fuzzer")
# ASan reserves terabytes of address space: tests that limit it (RLIMIT_AS)
# cannot run under it.
if config.anvil_sanitize in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("asan")

# Code generation tests build C++; share anvilc's code cache with the
# user's (content-addressed, so a hit is the same object a fresh build
# would give) unless ANVIL_CACHE_DIR says otherwise.
config.environment["ANVIL_CACHE_DIR"] = os.environ.get(
    "ANVIL_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "anvil"))
for name in ("ANVIL_CXX", "HOME"):
    if name in os.environ:
        config.environment[name] = os.environ[name]

# anvil-serve's web page test needs a headless browser: Debian's chromium
# and chromium-driver, driven by selenium (scripts/bootstrap.sh installs
# all three). Without them the test is UNSUPPORTED, and this says why.
def _browser_missing():
    import shutil
    missing = [tool for tool in ("chromium", "chromedriver")
               if not shutil.which(tool)]
    try:
        import importlib.util
        if importlib.util.find_spec("selenium") is None:
            missing.append("selenium (Python)")
    except ImportError:
        missing.append("selenium (Python)")
    return missing


_missing = _browser_missing()
if _missing:
    lit_config.note("anvil-serve's browser test is UNSUPPORTED: missing " +
                    ", ".join(_missing) + " (scripts/bootstrap.sh installs "
                    "them)")
else:
    config.available_features.add("browser")
