"""Mutants of the built-in deals and a judge of what the engine makes of each.

A mutant is a built-in deal file's data with one to three random mutations: a key
deleted, a value of the wrong type, an extreme value (numbers at and past every bound,
dates far out, huge and control-character strings), a list item duplicated, a list
reordered, a value buried in deep nesting, unicode text. Every mutant must be either

- "rejected": a DealError whose message names the file on every line, the field and
  (where there is one) the value, shortly (the CLI's exit 2), or
- "ran": base and every scenario of the deal run in both interpreters, to a ledger that
  is finite, conserves cash every period, has no negative balance, and is the same in
  the compiled kernel and the reference (to 1e-9).

Anything else is "crashed" (another exception, a time-out, a worker killed for memory)
or "nonsense" (ran but broke an invariant, or a rejection that does not say where).

`run_batch_capped` judges mutants in a worker subprocess under an address-space limit
and a per-mutant alarm, so a mutant that hangs or eats memory is counted, not fatal.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "mutant.toml"

CLASSES = ("rejected", "ran", "crashed", "nonsense")

_NUMBERS = [0, -1, 1, 2, -0.0, 0.5, 1e-320, -1e308, 1e308, 1.7e308, 1e300, 1e15, 1e9,
            2**31 - 1, 2**31, 2**53, 2**53 + 1, 2**63, -(2**31), 1200, 1201, 99999, 3.0e-9]
_DATES = [dt.date(1800, 1, 1), dt.date(1900, 12, 31), dt.date(1901, 1, 1), dt.date(2199, 12, 31),
          dt.date(2200, 1, 1), dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(2000, 2, 29)]
_STRINGS = ["", " ", "x" * 100_000, "\x00nul", "\x1b[31mred\x1b[0m", "$\\frac{1}{0}$", "$x^",
            "tab\there", "line\nbreak", "\u202eevil", "e\u0301\u200b", "\U0001F4A5 boom", "数据中心",
            "=1+1", "'; DROP TABLE", "senior", "dsra", "base", "../../etc/passwd", "a" * 40_000]
_WRONG = ["text", True, False, [], {}, [1, 2], {"kind": "x"}, 1.5, 7, None, "2026-01-01", "1e3"]


def builtin_documents() -> list[tuple[str, dict]]:
    from waterfall.load import builtin_deals, read_document

    return [(p.stem, read_document(p)) for p in builtin_deals()]


def _paths(data, here=()):
    """Every (path, value) in the data, containers included."""
    out = [(here, data)]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, here + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, here + (i,))
    return out


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _parent(data, path):
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def _extreme(rng: random.Random, value):
    if isinstance(value, bool):
        return rng.choice(_WRONG)
    if isinstance(value, int):
        return rng.choice(_NUMBERS + [value * 1000, -value, value + 1])
    if isinstance(value, float):
        return rng.choice(_NUMBERS + [value * 1e6, -value, value * 100, math.nextafter(value, 1e9)])
    if isinstance(value, dt.date):
        return rng.choice(_DATES)
    if isinstance(value, str):
        return rng.choice(_STRINGS)
    return rng.choice(_WRONG)


def _unicode(rng: random.Random, value):
    if isinstance(value, str):
        return value + rng.choice(["\u00e9", "\u202e", "\u200b", "\U0001F600", "\x07", "\x1b]0;t\x07", "\u0000"])
    return rng.choice(_STRINGS)


def _nest(rng: random.Random, value):
    depth = rng.choice([2, 10, 60, 300, 1000, 2000])
    for _ in range(depth):
        value = {"x": value} if rng.random() < 0.5 else [value]
    return value


def _pick(rng: random.Random, everything, numeric: bool):
    """A path to mutate: rarely a provenance note or an assumption (text the engine only
    carries), for an extreme mostly a number or a date (what feeds the arithmetic)."""
    def carried(path):
        return "provenance" in path or "assumptions" in path or "description" in path
    weights = []
    for path, value in everything:
        w = 0.05 if carried(path) else 1.0
        if numeric and isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
            w *= 6.0
        weights.append(w)
    return rng.choices([p for p, _ in everything], weights=weights)[0]


def mutate(rng: random.Random, data: dict) -> tuple[dict, list[str]]:
    """A mutated deep copy of `data` and the mutations applied (for the record)."""
    data = copy.deepcopy(data)
    applied = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        everything = [(p, v) for p, v in _paths(data) if p]
        if not everything:
            break
        kind = rng.choices(["delete", "wrong_type", "extreme", "duplicate", "reorder", "nest", "unicode"],
                           weights=[3, 3, 8, 2, 1, 1, 1])[0]
        path = _pick(rng, everything, numeric=kind == "extreme")
        value = _parent(data, path)[path[-1]]
        parent = _parent(data, path)
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "wrong_type":
            parent[path[-1]] = rng.choice(_WRONG)
        elif kind == "extreme":
            parent[path[-1]] = _extreme(rng, value)
        elif kind == "duplicate":
            lists = [p for p, v in _paths(data) if isinstance(v, list) and v]
            if not lists:
                continue
            path = rng.choice(lists)
            items = _parent(data, path)[path[-1]] if path else data
            items.insert(rng.randrange(len(items) + 1), copy.deepcopy(rng.choice(items)))
        elif kind == "reorder":
            lists = [p for p, v in _paths(data) if isinstance(v, list) and len(v) > 1]
            if not lists:
                continue
            path = rng.choice(lists)
            rng.shuffle(_parent(data, path)[path[-1]])
        elif kind == "nest":
            parent[path[-1]] = _nest(rng, value)
            applied.append(f"{kind} {'.'.join(map(str, path))}")
            break   # walking a deeply nested value again would itself recurse too deep
        else:
            parent[path[-1]] = _unicode(rng, value)
        applied.append(f"{kind} {'.'.join(map(str, path))}")
    return data, applied


def mutants(seed: int, count: int):
    """(deal stem, mutations, data) for `count` mutants drawn with `seed`."""
    rng = random.Random(seed)
    docs = builtin_documents()
    for _ in range(count):
        stem, doc = rng.choice(docs)
        data, applied = mutate(rng, doc)
        yield stem, applied, data


# --- the judge ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_MESSAGE_LINE = 600


def judge_rejection(exc, source: str = SOURCE) -> tuple[str, str]:
    """A DealError is a clean rejection if every problem names a field (or the file as
    a whole), each line starts with the file and is short and free of raw control bytes."""
    text = str(exc)
    for line in text.splitlines():
        if not line.startswith(source):
            return "nonsense", f"message line does not name the file: {line[:200]!r}"
        if len(line) > MAX_MESSAGE_LINE:
            return "nonsense", f"message line of {len(line)} characters"
    if _CONTROL.search(text):
        return "nonsense", "raw control character in the message"
    if not exc.problems:
        return "nonsense", "a DealError with no problem"
    return "rejected", ""


def _check_ledgers(program, ledgers) -> str:
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))   # after PYTHONPATH: the waterfall judged is the one it names
    from tests.invariants import assert_conserved, assert_no_negative_balances
    from waterfall import ops

    for ledger in ledgers:
        rows = ~np.all(np.isnan(ledger), axis=1)   # padded periods of a shorter changed deal
        ledger = ledger[rows]
        if np.any(np.isinf(ledger)):
            return "an infinite value in the ledger"
        nan = np.isnan(ledger)
        nan[:, ops.G["dscr"]] = False     # no debt service due: the ratio is undefined
        nan[:, ops.G["llcr"]] = False     # no calculation date (before COD, after maturity or acceleration)
        for line in ("dscr_historic", "dscr_projected", "hedge_ratio"):
            nan[:, ops.G[line]] = False   # not tested: no covenant on that basis, or nothing to test
        if nan.any():
            return "NaN in the ledger outside the DSCR line"
        try:
            assert_conserved(program, ledger)
            # the invariant's tolerance is absolute (1e-9): on amounts in the billions a
            # rounding of one part in 1e16 is below it only relative to the deal's size
            scale = max(1.0, float(np.nanmax(np.abs(ledger))))
            assert_no_negative_balances(program, np.where(np.abs(ledger) <= 1e-15 * scale, 0.0, ledger))
        except AssertionError as exc:
            return str(exc)[:300]
    return ""


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    scale = np.maximum(1.0, np.maximum(np.abs(np.nan_to_num(a)), np.abs(np.nan_to_num(b))))
    close = np.abs(np.nan_to_num(a) - np.nan_to_num(b)) <= 1e-9 * scale
    return bool(np.all(both_nan | (close & ~np.isnan(a) & ~np.isnan(b))))


def judge(data: dict, source: str = SOURCE) -> tuple[str, str]:
    """(class, detail) of one mutant, run in process through the load/compile/run API."""
    import waterfall
    from waterfall.errors import DealError
    from waterfall.load import deal_from_data

    try:
        deal = deal_from_data(data, source)
        waterfall.compile_deal(deal, source)
        names = ["base"] + [s.name for s in deal.scenarios if s.name != "base"]
        runs = {}
        for engine in ("reference", "compiled"):
            runs[engine] = waterfall.run_batch(deal, names, engine=engine, ledgers=True)
    except DealError as exc:
        return judge_rejection(exc, source)
    except RecursionError:
        return "crashed", "RecursionError"
    except Exception as exc:  # noqa: BLE001 - anything else is a crash, recorded by type
        return "crashed", f"{type(exc).__name__}: {str(exc)[:200]}"
    ref, comp = runs["reference"], runs["compiled"]
    problem = _check_ledgers(ref.program, ref.ledgers)
    if problem:
        return "nonsense", problem
    met = ref.metric_values
    if np.any(np.isinf(met)):
        return "nonsense", "an infinite metric"
    if not (_same(met, comp.metric_values) and _same(ref.ledgers, comp.ledgers) and _same(ref.wal, comp.wal)):
        return "nonsense", "the kernel and the reference disagree"
    return "ran", ""


# --- capped worker -----------------------------------------------------------------------

def _worker(seed: int, count: int, skip: int, seconds: int, mem_bytes: int) -> None:
    """Judge mutants skip..count-1 of `seed`, one JSON line each, under the caps."""
    import resource
    import signal

    resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    class TimeOut(BaseException):
        pass

    def alarm(*_):
        raise TimeOut

    signal.signal(signal.SIGALRM, alarm)
    os.environ.setdefault("WATERFALL_THREADS", "1")
    for i, (stem, applied, data) in enumerate(mutants(seed, count)):
        if i < skip:
            continue
        signal.alarm(seconds)
        try:
            verdict, detail = judge(data)
        except TimeOut:
            verdict, detail = "crashed", f"time-out after {seconds} s"
        except MemoryError:
            verdict, detail = "crashed", "MemoryError"
        finally:
            signal.alarm(0)
        print(json.dumps({"i": i, "deal": stem, "mutations": applied, "class": verdict,
                          "detail": detail}), flush=True)


def run_batch_capped(seed: int, count: int, seconds: int = 20, mem_mb: int = 2048) -> list[dict]:
    """Judge `count` mutants of `seed` in worker subprocesses; a worker killed (memory,
    a hard crash) counts its mutant as crashed and a new worker goes on after it."""
    results: dict[int, dict] = {}
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH") or str(ROOT),
               WATERFALL_THREADS="1", OMP_NUM_THREADS="1")
    while len(results) < count:
        skip = len(results)
        code = ("import importlib.util, sys; "
                f"spec = importlib.util.spec_from_file_location('waterfall_fuzz', {__file__!r}); "
                "m = importlib.util.module_from_spec(spec); sys.modules['waterfall_fuzz'] = m; "
                f"spec.loader.exec_module(m); m._worker({seed}, {count}, {skip}, {seconds}, {mem_mb * 2**20})")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              timeout=seconds * (count - skip) + 120)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                results[row["i"]] = row
        if len(results) == skip or (proc.returncode != 0 and len(results) < count):
            i = len(results)
            results[i] = {"i": i, "deal": "?", "mutations": [], "class": "crashed",
                          "detail": f"worker died (status {proc.returncode}): {proc.stderr[-300:]}"}
    return [results[i] for i in range(count)]


def counts(rows: list[dict]) -> dict[str, int]:
    return {c: sum(1 for r in rows if r["class"] == c) for c in CLASSES}


if __name__ == "__main__":  # python tests/fuzz.py SEED COUNT: counts by class, then the failures
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rows = run_batch_capped(seed, count)
    print(json.dumps(counts(rows)))
    for r in rows:
        if r["class"] in ("crashed", "nonsense"):
            print(r["i"], r["deal"], r["mutations"], r["class"], r["detail"][:300])
