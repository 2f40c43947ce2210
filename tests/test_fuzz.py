"""Fuzz: mutants of every built-in deal (tests/fuzz.py says how they are made and judged)
are each a clean rejection (exit 2 naming file, field and value) or a run to finite,
conserved output with no negative balance, the same in both interpreters.

CI runs a fixed seed of 500 mutants in a worker subprocess under a 2 GB address-space cap
and a 20 s alarm per mutant. For a release check run more from a fresh seed:

    WATERFALL_FUZZ_COUNT=3000 WATERFALL_FUZZ_SEED=12345 python -m pytest tests/test_fuzz.py -k release

(the seed defaults to one drawn from the clock, printed with the counts)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.fuzz import CLASSES, SOURCE, counts, judge, mutants, run_batch_capped

CI_SEED = 17_2026
CI_COUNT = 500


def _report(rows) -> str:
    bad = [r for r in rows if r["class"] in ("crashed", "nonsense")]
    lines = [json.dumps(counts(rows))]
    lines += [f"#{r['i']} {r['deal']} {r['mutations']}: {r['class']}: {r['detail'][:300]}" for r in bad[:30]]
    return "\n".join(lines)


def test_every_mutant_is_rejected_cleanly_or_runs_soundly():
    rows = run_batch_capped(CI_SEED, CI_COUNT, seconds=20, mem_mb=2048)
    found = counts(rows)
    assert found["crashed"] == 0 and found["nonsense"] == 0, _report(rows)
    # the sample exercises both outcomes, and every built-in deal
    assert found["ran"] >= 50 and found["rejected"] >= 200, found
    assert {r["deal"] for r in rows} >= {"tieout", "abilene", "benchmark_spv", "project_jupiter"}


@pytest.mark.skipif(not os.environ.get("WATERFALL_FUZZ_COUNT"), reason="release check: set WATERFALL_FUZZ_COUNT")
def test_release_fuzz():
    seed = int(os.environ.get("WATERFALL_FUZZ_SEED") or time.time_ns() % 2**31)
    rows = run_batch_capped(seed, int(os.environ["WATERFALL_FUZZ_COUNT"]), seconds=30, mem_mb=2048)
    print(f"seed {seed}: " + _report(rows))
    found = counts(rows)
    assert found["crashed"] == 0 and found["nonsense"] == 0, f"seed {seed}: " + _report(rows)


def _json_default(value):
    return value.isoformat()


def test_the_command_line_agrees_with_the_in_process_judge(tmp_path):
    """A few mutants through the real CLI, as JSON deal files: a rejection is exit 2 with
    every line naming the file and no traceback; a mutant that runs exits 0."""
    picked = {"rejected": [], "ran": []}
    for i, (stem, applied, data) in enumerate(mutants(CI_SEED, 200)):
        try:
            text = json.dumps(data, default=_json_default)
        except (RecursionError, TypeError, ValueError):
            continue
        verdict, _ = judge(json.loads(text), SOURCE)
        if verdict in picked and len(picked[verdict]) < 4:
            picked[verdict].append((i, text))
        if all(len(v) == 4 for v in picked.values()):
            break
    assert all(len(v) == 4 for v in picked.values()), {k: len(v) for k, v in picked.items()}
    for verdict, cases in picked.items():
        for i, text in cases:
            path = tmp_path / f"mutant-{i}.json"
            path.write_text(text)
            proc = subprocess.run([sys.executable, "-m", "waterfall", "run", str(path), "--engine", "reference"],
                                  capture_output=True, text=True, timeout=120)
            assert "Traceback" not in proc.stderr, (i, proc.stderr[-2000:])
            if verdict == "rejected":
                assert proc.returncode == 2, (i, proc.stdout[-500:])
                assert all(line.startswith(str(path)) for line in proc.stderr.splitlines()), (i, proc.stderr)
            else:
                assert proc.returncode == 0, (i, proc.stderr)


def test_the_judge_can_fail():
    """The judge calls an infinite amount, a negative balance, cash that is not conserved
    and a rejection that does not name the file what they are (so a clean count means
    something)."""
    import numpy as np
    import waterfall
    from waterfall import ops
    from waterfall.errors import DealError
    from tests.fuzz import _check_ledgers, judge_rejection

    result = waterfall.run_batch("tieout", ["base"], engine="reference", ledgers=True)
    program, ledgers = result.program, result.ledgers
    assert _check_ledgers(program, ledgers) == ""
    broken = ledgers.copy()
    broken[0, 5, ops.G["opex"]] = np.inf
    assert _check_ledgers(program, broken) == "an infinite value in the ledger"
    broken = ledgers.copy()
    broken[0, 5, ops.tranche_col(0, "balance_close")] = -1.0
    assert "went negative" in _check_ledgers(program, broken)
    broken = ledgers.copy()
    broken[0, 5, ops.G["revenue"]] += 1.0
    assert "sources != uses" in _check_ledgers(program, broken)
    verdict, detail = judge_rejection(DealError("<deal>", [("x", "bad", 1)]))
    assert verdict == "nonsense" and "does not name the file" in detail
    assert judge_rejection(DealError(SOURCE, [("x", "bad", 1)])) == ("rejected", "")
    assert set(CLASSES) == {"rejected", "ran", "crashed", "nonsense"}
