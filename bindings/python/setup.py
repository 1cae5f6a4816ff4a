"""Build of the libsbprov Python binding (setuptools + SWIG + pkg-config).

libsbprov must be built and installed (or staged) first; pkg-config finds it:

    PKG_CONFIG_PATH=<prefix>/lib/pkgconfig pip install --no-build-isolation bindings/python

What this file adds to a plain setuptools build:

* ``build_ext`` runs swig on ``sbprov.i`` itself, writing the C wrapper into
  the build's temporary directory and the generated proxy
  ``sbprov/_sbprov_swig.py`` straight into the build directory (or the source
  package for ``--inplace``/editable builds), so nothing is generated in the
  source tree by a normal install.
* swig's "unhandled parameter" warnings from sbprov.i (a new output buffer
  or (pointer, length) pair the typemaps do not know) fail the build.
* ``build_py`` runs ``build_ext`` first: with the stock command order the
  generated ``.py`` would not exist yet when pure modules are copied, and the
  wheel would silently lack it (bpo-37247).
* Compiler and linker flags come from ``pkg-config --cflags --libs sbprov``;
  the library directory is also recorded as the extension's RUNPATH, so the
  installed module finds ``libsbprov.so.1`` without LD_LIBRARY_PATH.

Environment: ``SWIG`` (swig executable, default ``swig``), ``PKG_CONFIG``
(default ``pkg-config``), ``SBPROV_PKG`` (pkg-config package name, default
``sbprov``).
"""

import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
INTERFACE = "sbprov.i"
PROXY = "_sbprov_swig"  # generated proxy module, sbprov/_sbprov_swig.py
EXTENSION = "sbprov._sbprov"  # compiled extension module


def _pkg_config(*args):
    """Output of pkg-config for the library, split like a shell would."""
    exe = os.environ.get("PKG_CONFIG", "pkg-config")
    package = os.environ.get("SBPROV_PKG", "sbprov")
    cmd = [exe, *args, package]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"sbprov: '{exe}' not found; install pkg-config (Debian: apt-get install pkg-config)")
    except subprocess.CalledProcessError as e:
        sys.exit(
            f"sbprov: '{' '.join(cmd)}' failed: {e.stderr.strip()}\n"
            "sbprov: build and install libsbprov first, and point pkg-config at it, e.g.\n"
            "        PKG_CONFIG_PATH=<prefix>/lib/pkgconfig pip install --no-build-isolation bindings/python"
        )
    return shlex.split(out)


def _library_flags():
    """include_dirs, library_dirs, libraries and other flags from pkg-config."""
    flags = {"include_dirs": [], "library_dirs": [], "libraries": [], "extra_compile_args": [],
             "extra_link_args": []}
    for tok in _pkg_config("--cflags"):
        if tok.startswith("-I"):
            flags["include_dirs"].append(tok[2:])
        else:
            flags["extra_compile_args"].append(tok)
    for tok in _pkg_config("--libs"):
        if tok.startswith("-L"):
            flags["library_dirs"].append(tok[2:])
        elif tok.startswith("-l"):
            flags["libraries"].append(tok[2:])
        else:
            flags["extra_link_args"].append(tok)
    libdir = _pkg_config("--variable=libdir")
    flags["runtime_library_dirs"] = libdir[:1] or flags["library_dirs"][:1]
    return flags


class BuildExt(build_ext):
    """Run swig, then compile the wrapper against libsbprov."""

    def _proxy_dir(self):
        if self.inplace or getattr(self, "editable_mode", False):
            return os.path.join(HERE, "sbprov")
        return os.path.join(self.build_lib, "sbprov")

    def _swig(self, include_dirs):
        swig = os.environ.get("SWIG", "swig")
        if shutil.which(swig) is None:
            sys.exit(f"sbprov: '{swig}' not found; install SWIG 4 (Debian: apt-get install swig)")
        wrap_dir = os.path.join(self.build_temp, "swig")
        proxy_dir = self._proxy_dir()
        os.makedirs(wrap_dir, exist_ok=True)
        os.makedirs(proxy_dir, exist_ok=True)
        wrapper = os.path.join(wrap_dir, "sbprov_wrap.c")
        cmd = [swig, "-python", "-interface", "_sbprov", "-outdir", proxy_dir, "-o", wrapper]
        cmd += [f"-I{d}" for d in include_dirs]
        cmd.append(os.path.join(HERE, INTERFACE))
        print(" ".join(shlex.quote(c) for c in cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            sys.exit(f"sbprov: swig failed (exit status {proc.returncode})")
        # sbprov.i's safety-net warnings (a parameter no typemap claimed) are
        # errors; other SWIG warnings, which vary between versions, are not.
        unhandled = [line for line in proc.stderr.splitlines() if "libsbprov binding:" in line]
        if unhandled:
            sys.exit("sbprov: sbprov.i does not handle some parameters:\n" + "\n".join(unhandled))
        return wrapper

    def run(self):
        flags = _library_flags()
        for ext in self.extensions:
            if ext.name != EXTENSION:
                continue
            ext.sources = [self._swig(flags["include_dirs"])]
            for key, value in flags.items():
                getattr(ext, key).extend(value)
        super().run()

    def get_outputs(self):
        return super().get_outputs() + [os.path.join(self._proxy_dir(), PROXY + ".py")]


class BuildPy(build_py):
    """build_ext first, so that the SWIG-generated proxy exists and ships."""

    def run(self):
        self.run_command("build_ext")
        super().run()


setup(
    # The binding is versioned with the library it is built against.
    version=_pkg_config("--modversion")[0],
    # sbprov/_sbprov_swig.py is generated by build_ext (see BuildExt._swig).
    packages=["sbprov"],
    ext_modules=[Extension(EXTENSION, sources=[INTERFACE])],
    cmdclass={"build_ext": BuildExt, "build_py": BuildPy},
)
