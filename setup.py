"""Build the Cython kernel (ext/_kernel.pyx) as waterfall._kernel.

OpenMP is used where the compiler supports it (a serial build otherwise). Set
WATERFALL_NO_EXT=1 to install without the extension: the pure-Python reference then
runs everywhere. WATERFALL_DEBUG=1 builds with bounds checks.
"""
import os
import runpy
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


def native_flags():
    """-march=x86-64-v3 (AVX2 + FMA: fused multiply-adds halve the latency of the IRR's
    Horner chains) when this machine can compile *and run* such code; the package is
    built from source where it runs. WATERFALL_PORTABLE=1 builds for baseline x86-64."""
    import platform
    if os.environ.get("WATERFALL_PORTABLE") or platform.machine() not in ("x86_64", "AMD64"):
        return []
    src = "int main(void){volatile double a=1.5,b=2.0,c=0.25; return (a*b+c)==3.25 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path, exe = os.path.join(tmp, "t.c"), os.path.join(tmp, "t")
        with open(path, "w") as fh:
            fh.write(src)
        cc = os.environ.get("CC", "cc")
        if subprocess.run([cc, "-march=x86-64-v3", path, "-o", exe], capture_output=True).returncode:
            return []
        try:
            ok = subprocess.run([exe], capture_output=True).returncode == 0
        except OSError:
            ok = False
    return ["-march=x86-64-v3"] if ok else []


def write_layout():
    """ext/_layout.pxi: the kernel's opcodes, channels, ledger offsets and metric order,
    generated from waterfall/ops.py and the step registry's modules (read, not imported:
    the build has none of the package's dependencies). Rewritten only when it changes."""
    here = os.path.dirname(os.path.abspath(__file__))
    ns = runpy.run_path(os.path.join(here, "waterfall", "ops.py"))
    text = ns["pxi_text"](ns["layout"](ns["opcodes_in_sources"]()))
    path = os.path.join(here, "ext", "_layout.pxi")
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
    if old != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def extensions():
    if os.environ.get("WATERFALL_NO_EXT"):
        return []
    write_layout()
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    compile_args, link_args = openmp_flags()
    debug = bool(os.environ.get("WATERFALL_DEBUG"))
    ext = Extension(
        "waterfall._kernel",
        ["ext/_kernel.pyx"],
        include_dirs=[numpy.get_include()],
        # -fno-inline-functions-called-once: the rare paths (refinancing, enforcement, the
        # bracketing IRR) stay out of the period loop, which keeps its hot state in registers
        extra_compile_args=["-O3", "-ffp-contract=off", "-fno-inline-functions-called-once"]
        + native_flags() + compile_args,
        extra_link_args=link_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    return cythonize([ext], compiler_directives=cython_directives(debug))


def cython_directives(debug: bool) -> dict:
    """Cython directives of the kernel. ext/_kernel.pyx's header sets none of these, so
    WATERFALL_DEBUG=1 really builds with bounds and initialisation checks."""
    return {"language_level": 3, "boundscheck": debug, "wraparound": False,
            "cdivision": True, "initializedcheck": debug}


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import its functions
    setup(ext_modules=extensions())
