"""Build the Cython kernel (ext/_kernel.pyx) as waterfall._kernel.

OpenMP is used where the compiler supports it (a serial build otherwise). Set
WATERFALL_NO_EXT=1 to install without the extension: the pure-Python reference then
runs everywhere. WATERFALL_DEBUG=1 builds with bounds checks.
"""
import os
import subprocess
import sys
import tempfile

from setuptools import setup


def openmp_flags():
    if sys.platform == "darwin" or os.environ.get("WATERFALL_NO_OPENMP"):
        return [], []
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.c")
        with open(path, "w") as fh:
            fh.write(src)
        cc = os.environ.get("CC", "cc")
        ok = subprocess.run([cc, "-fopenmp", path, "-o", os.path.join(tmp, "t")],
                            capture_output=True).returncode == 0
    return (["-fopenmp"], ["-fopenmp"]) if ok else ([], [])


def extensions():
    if os.environ.get("WATERFALL_NO_EXT"):
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    compile_args, link_args = openmp_flags()
    debug = bool(os.environ.get("WATERFALL_DEBUG"))
    ext = Extension(
        "waterfall._kernel",
        ["ext/_kernel.pyx"],
        include_dirs=[numpy.get_include()],
        extra_compile_args=["-O3"] + compile_args,
        extra_link_args=link_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    directives = {"language_level": 3, "boundscheck": debug, "wraparound": False,
                  "cdivision": True, "initializedcheck": debug}
    return cythonize([ext], compiler_directives=directives)


setup(ext_modules=extensions())
