"""The registry of waterfall step kinds: one module each (see steps/base.py for what a
kind declares and the protocol its cash rule is written against).

Adding a kind: a module here with `CODE`, `NAME` and `KIND` (found by itself); its
branch in ext/_kernel.pyx (the opcode constant is generated from `CODE`); a hand-worked
test in tests/steps/test_<name>.py. tests/test_registry.py fails while any part is
missing, and the docs table (docs/steps.md) is generated from here.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from ..ops import kind_modules

from .base import Line, Problem, StepKind, UnknownStep


def _kind_modules() -> tuple:
    """Every module of this package that defines a step kind (`KIND`), by opcode."""
    # only kind modules (they state CODE and NAME); the package's helpers import the registry
    found = [importlib.import_module(f"{__name__}.{name}") for name in kind_modules(Path(__path__[0]))]
    return tuple(sorted(found, key=lambda m: m.CODE))


_MODULES = _kind_modules()

KINDS: tuple[StepKind, ...] = tuple(m.KIND for m in _MODULES)
BY_NAME: dict[str, StepKind] = {k.name: k for k in KINDS}
BY_CODE: dict[int, StepKind] = {k.code: k for k in KINDS}
NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
STEP_CODE: dict[str, int] = {k.name: k.code for k in KINDS}


def kind_of(code: int, index: int = 0) -> StepKind:
    """The kind of opcode `code` (step `index` of a program); UnknownStep if none."""
    try:
        return BY_CODE[int(code)]
    except KeyError:
        raise UnknownStep(index, int(code)) from None


def kinds_of(step_op) -> list[StepKind]:
    """The kind of every step of a compiled program, failing on the first unknown one."""
    return [kind_of(op, i) for i, op in enumerate(step_op)]


def _check_registry() -> None:
    codes = [k.code for k in KINDS]
    if len(set(codes)) != len(codes) or len(set(NAMES)) != len(NAMES):
        raise RuntimeError(f"step kinds share a code or a name: {list(zip(NAMES, codes))}")
    for m in _MODULES:
        if (m.CODE, m.NAME) != (m.KIND.code, m.KIND.name):
            raise RuntimeError(f"{m.__name__}: CODE/NAME differ from its KIND")


_check_registry()

__all__ = ["KINDS", "BY_NAME", "BY_CODE", "NAMES", "STEP_CODE", "Line", "Problem", "StepKind",
           "UnknownStep", "kind_of", "kinds_of"]
