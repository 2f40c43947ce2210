"""The step registry: every kind has every part, every layout fact the kernel shares with
Python is generated (never copied), and every dispatch on the unknown fails loudly."""
from __future__ import annotations

import dataclasses
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import waterfall
from waterfall import engine, ops, reference, steps
from waterfall.compile import compile_scenarios
from waterfall.model.deal import Step
from waterfall.output.formulas import unsupported
from waterfall.program import Program
from waterfall.steps.base import StepKind, UnknownStep
from waterfall.steps.docs import markdown

ROOT = Path(__file__).resolve().parent.parent
PYX = (ROOT / "ext" / "_kernel.pyx").read_text(encoding="utf-8")
needs_kernel = pytest.mark.skipif(not engine.kernel_available(), reason="the compiled kernel is not built")


@pytest.mark.parametrize("kind", steps.KINDS, ids=lambda k: k.name)
def test_every_kind_has_every_part(kind: StepKind):
    # schema: the deal schema admits the kind by name
    Step(step=kind.name, **({kind.wanted: "x"} if kind.wanted else {}))
    # reference and formula rule: its own cash rule (one method serves both)
    assert type(kind).cash is not StepKind.cash, f"{kind.name} has no cash rule"
    # compile: an opcode and an operand index
    assert isinstance(kind.code, int) and kind.code >= 0
    # kernel branch, on the generated constant (no number in the .pyx)
    assert re.search(rf"\bop == OP_{kind.name.upper()}\b", PYX), f"no kernel branch for {kind.name}"
    # a hand-worked test
    assert (ROOT / "tests" / "steps" / f"test_{kind.name}.py").exists(), f"no hand-worked test for {kind.name}"
    # docs: an entry, and the docs page is the registry's
    assert kind.summary and kind.doc
    assert f"## `{kind.name}`" in (ROOT / "docs" / "steps.md").read_text(encoding="utf-8")


def test_docs_page_is_generated_from_the_registry():
    assert (ROOT / "docs" / "steps.md").read_text(encoding="utf-8") == markdown(), \
        "docs/steps.md is stale: run python scripts/step_table.py"


def test_opcodes_the_build_reads_are_the_registry():
    assert ops.opcodes_in_sources() == steps.STEP_CODE


def test_kernel_has_no_hand_copied_layout_number():
    # an enum entry like `OP_FEE = 0` or `G_DSCR = 10` in the .pyx would be a copy
    copied = re.findall(r"^\s+((?:OP|G|T|A|F|M|CH|ACC)_[A-Z_]+)\s*=\s*\d+", PYX, re.M)
    assert copied == []
    assert 'include "_layout.pxi"' in PYX
    assert not re.search(r"acc0 \+ 2 \*|fee0 \+ 2 \*|\* 2 \+ p\.F|range\(4\)", PYX)


@needs_kernel
def test_kernel_layout_equals_python_field_by_field():
    from waterfall import _kernel
    assert _kernel.LAYOUT == engine.LAYOUT
    assert _kernel.LAYOUT_DIGEST == ops.digest(engine.LAYOUT)


def test_digest_sees_every_fact():
    facts = ops.layout(steps.STEP_CODE)
    for key in facts:
        changed = dict(facts)
        changed[key] = ["x"] if isinstance(facts[key], list) else facts[key] + 1
        assert ops.digest(changed) != ops.digest(facts), key


def test_program_fields_are_all_accounted_for():
    python_only = {"amounts", "names", "dates", "hedge_premium",  # premiums are in capex
                   "property_tax",  # property tax is in opex
                   "uses_at_close", "reserve_at_close"}  # in capex and equity_in (sources and uses)
    fields = {f.name for f in dataclasses.fields(Program)}
    shared = set(ops.PROGRAM_F64) | set(ops.PROGRAM_I64) | set(ops.PROGRAM_SCALARS)
    assert fields == shared | python_only
    for name in ops.PROGRAM_SCALARS:
        assert f"program.{name}" in PYX, f"the kernel does not read Program.{name}"
    for name in ops.PROGRAM_F64 + ops.PROGRAM_I64:
        assert f'keep["{name}"]' in PYX, f"the kernel does not read Program.{name}"


def _tieout_with_opcode(code: int):
    deal = waterfall.load_deal(ROOT / "deals/examples/tieout.toml")
    program = waterfall.compile_deal(deal)
    at = 2  # before the reserve step
    program.step_op = np.insert(program.step_op, at, code)
    program.step_arg = np.insert(program.step_arg, at, 0)
    program.step_share = np.insert(program.step_share, at, 0.0)
    program.step_share_locked = np.insert(program.step_share_locked, at, 1.0)
    return deal, program, compile_scenarios([deal.scenario("base")], program)


UNKNOWN = max(steps.BY_CODE) + 1   # the first opcode no step kind has


def test_reference_raises_on_an_unknown_opcode():
    # on main both interpreters skipped an unknown opcode and returned the tie-out's metrics
    _, program, batch = _tieout_with_opcode(UNKNOWN)
    with pytest.raises(UnknownStep, match=f"step 3 has opcode {UNKNOWN}"):
        reference.run_one(program, batch, 0)
    assert unsupported(program) == [f"step 3: opcode {UNKNOWN} is no step kind of this version"]


@needs_kernel
@pytest.mark.parametrize("ledgers", [False, True])
def test_kernel_raises_on_an_unknown_opcode(ledgers):
    _, program, batch = _tieout_with_opcode(UNKNOWN)
    with pytest.raises(UnknownStep, match=f"step 3 has opcode {UNKNOWN}"):
        engine.run_program(program, batch, ledgers=ledgers, threads=2)


def test_kind_of_fails_loudly():
    with pytest.raises(UnknownStep):
        steps.kind_of(99, 4)
    assert steps.kind_of(steps.STEP_CODE["sweep"]).name == "sweep"


def test_debug_build_has_bounds_checks(tmp_path):
    """WATERFALL_DEBUG=1: setup.py's directives reach the generated C (on main the .pyx
    header's boundscheck=False overrode them). Cythonized here, not compiled."""
    Cython = pytest.importorskip("Cython.Build")
    setup_ns = runpy.run_path(str(ROOT / "setup.py"), run_name="setup_under_test")
    setup_ns["write_layout"]()
    for path in [ROOT / "ext" / "_kernel.pyx", *sorted((ROOT / "ext").glob("*.pxi"))]:
        shutil.copy(path, tmp_path / path.name)
    c_file = tmp_path / "_kernel.c"
    for debug in (True, False):
        env = dict(os.environ)
        code = ("import sys, numpy; from Cython.Build import cythonize; from setuptools import Extension; "
                f"cythonize([Extension('k', [{str(tmp_path / '_kernel.pyx')!r}], include_dirs=[numpy.get_include()])], "
                f"compiler_directives={setup_ns['cython_directives'](debug)!r}, quiet=True, force=True)")
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path, capture_output=True)
        text = c_file.read_text(encoding="utf-8")
        checks = text.count("__Pyx_RaiseBufferIndexError")
        assert (checks > 0) == debug, (debug, checks)


def test_no_python_function_over_80_lines():
    import ast
    long = []
    for path in sorted((ROOT / "waterfall").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > 80:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)")
    assert long == []
