"""Builds the anvil package; its native module comes from Anvil's CMake build.

The module `anvil._anvil` is the CMake target `anvil-python` (python/
CMakeLists.txt: pybind11 over the C API, linking libanvilrt and the engine
statically). This script brings that target up to date in the build folder
and copies it into the package, so `pip install` compiles nothing twice and
downloads nothing. The build folder is $ANVIL_BUILD_DIR, by default
`build` beside this folder (the checkout's, as scripts/build.sh makes it);
a checkout that was never configured is configured and built by
scripts/build.sh. The module is built for the Python that CMake was
configured with (build/venv's): install with that Python.
"""
import os
import shutil
import subprocess
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def build_dir():
    return os.path.abspath(os.environ.get("ANVIL_BUILD_DIR",
                                          os.path.join(ROOT, "build")))


class CMakeTarget(build_ext):
    """build_ext that asks CMake for the module instead of compiling."""

    def build_extension(self, ext):
        build = build_dir()
        script = os.path.join(ROOT, "scripts", "build.sh")
        if os.path.isfile(os.path.join(build, "build.ninja")):
            command = ["cmake", "--build", build, "--target", "anvil-python"]
        elif os.path.isfile(script):
            command = [script, "anvil-python"]
        else:
            raise SystemExit(
                f"anvil: no Anvil build in {build} (set ANVIL_BUILD_DIR to "
                "the folder scripts/build.sh built)")
        env = dict(os.environ, ANVIL_BUILD_DIR=build)
        subprocess.run(command, check=True, env=env)
        name = "_anvil" + sysconfig.get_config_var("EXT_SUFFIX")
        built = os.path.join(build, "python", "anvil", name)
        if not os.path.isfile(built):
            found = [f for f in os.listdir(os.path.dirname(built))
                     if f.startswith("_anvil")]
            raise SystemExit(
                f"anvil: {built} was not built; the build made "
                f"{found or 'nothing'}: CMake was configured with another "
                "Python than this one")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built, target)


# setuptools' scratch folders go into the build folder, not the checkout.
scratch = os.path.join(build_dir(), "python-setuptools")
os.makedirs(scratch, exist_ok=True)

setup(
    ext_modules=[Extension("anvil._anvil", sources=[])],
    cmdclass={"build_ext": CMakeTarget},
    options={"build": {"build_base": scratch},
             "egg_info": {"egg_base": scratch}},
)
