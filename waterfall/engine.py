"""Run a deal: one scenario or a batch, on the compiled kernel or the reference.

The compiled kernel (waterfall._kernel, built from ext/_kernel.pyx) is used when it
is importable; otherwise the pure-Python reference runs and `engine_available()`
says why.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np


from . import reference
from .compile import compile_deal, compile_scenarios
from .errors import printable, NO_VALUE, DealError, UnknownNameError
from .model.deal import Deal
from .model.scenario import Scenario
from .program import Program, ScenarioBatch, ScenarioNames
from .results import BatchResult, Result

try:  # the compiled kernel is optional: the reference is the fallback
    if os.environ.get("WATERFALL_NO_KERNEL"):
        raise ImportError("disabled by WATERFALL_NO_KERNEL")
    from . import _kernel
    _KERNEL_ERROR = None
except ImportError as exc:  # a build without the extension (or WATERFALL_NO_KERNEL=1)
    _kernel = None
    _KERNEL_ERROR = str(exc)

from . import ops as _ops
from . import steps as _steps

LAYOUT = _ops.layout(_steps.STEP_CODE)  # every fact the kernel shares with Python
if _kernel is not None and getattr(_kernel, "LAYOUT_DIGEST", None) != _ops.digest(LAYOUT):
    _kernel = None  # a stale build: some opcode, channel, line offset or metric differs
    _KERNEL_ERROR = "the built kernel is stale (its layout differs from this source); rebuild with pip install -e ."


def kernel_available() -> bool:
    return _kernel is not None


def kernel_lanes(program: Program | None = None) -> int:
    """Scenarios the kernel steps through the periods together, in one vector: the build's
    lane width, or with a program the width its metrics-only runs use (1 where its rules
    run scalar: ledgers, hedges, letters of credit, trailing or projected DSCR tests, the
    hedge-ratio covenant, a borrowing base). 1 without the kernel."""
    if _kernel is None:
        return 1
    return int(_kernel.lanes_for(program)) if program is not None else int(_kernel.LANES)


def kernel_error() -> str | None:
    return _KERNEL_ERROR


def resolve_deal(deal) -> Deal:
    """A Deal as given, or loaded from a deal file or the name of a built-in deal
    (DealError if it cannot be: a file that is not a valid deal, a name that names none)."""
    if isinstance(deal, Deal):
        return deal
    from .load import load_deal
    return load_deal(deal)


def resolve_scenario(deal: Deal, scenario) -> Scenario:
    """A Scenario as given; None for base; a scenario file; the name of one of the deal's
    scenarios or of a stress preset. A name that is none of these raises
    UnknownNameError (a DealError and a KeyError) naming it and the names known."""
    if scenario is None:
        return deal.scenario("base")
    if isinstance(scenario, Scenario):
        return scenario
    looks_like_file = isinstance(scenario, (str, Path)) and Path(str(scenario)).suffix.lower() in (".toml", ".json")
    if looks_like_file and Path(str(scenario)).exists():
        from .load import load_scenario
        return load_scenario(scenario, deal)
    name = str(scenario)
    if looks_like_file:  # a file name that names no file: say so, not "unknown scenario"
        raise UnknownNameError(name, "", "no such scenario file", NO_VALUE)
    if name == "base" or any(s.name == name for s in deal.scenarios):
        return deal.scenario(name)
    from .scenarios.presets import load_preset, preset_names
    from .suggest import did_you_mean
    presets = preset_names()
    if name in presets:  # a stress preset by name applies to any deal: its direct effects, the
        # market-wide stresses on the chain's calendar (anchored at the graph's basis date), as
        # `waterfall run --direct-only` and the chain take them (contagion.direct_scenario)
        from .contagion import basis_date, direct_at
        preset = load_preset(name)
        direct = direct_at(basis_date(), deal, preset)
        # the chain shock stays on it: a run outside the chain says what it leaves out
        return direct if direct.chain is not None else direct.model_copy(update={"chain": preset.chain})
    own = ["base"] + [s.name for s in deal.scenarios if s.name != "base"]
    hint = did_you_mean(name, own + presets)
    # the suggestion first: a long message is shortened at its end (errors.printable)
    raise UnknownNameError(deal.name, "scenario",
                           f"no scenario '{printable(name, 80)}' in deal '{printable(deal.name, 80)}', no preset "
                           f"and no scenario file of "
                           f"that name{'; ' + hint if hint else ''} (known: {', '.join(own)}; presets, "
                           f"which apply to any deal: {', '.join(presets)})", NO_VALUE)


def pick_engine(engine: str) -> str:
    """'compiled' or 'reference' for engine 'compiled', 'reference' or 'auto' (the
    kernel when it is built); 'compiled' without the kernel raises RuntimeError."""
    if engine not in ("compiled", "reference", "auto"):
        raise ValueError(f"engine must be 'compiled', 'reference' or 'auto', not {engine!r}")
    if engine == "reference":
        return "reference"
    if _kernel is None:
        if engine == "compiled":
            raise RuntimeError(f"the compiled kernel is not built ({_KERNEL_ERROR}); use engine='reference'")
        return "reference"
    return "compiled"


PROGRAM_CACHE_SIZE = 32   # compiled deals kept (a sweep of structural changes compiles each once)
_programs: "OrderedDict[str, Program]" = OrderedDict()
_programs_lock = threading.Lock()


_by_object: "OrderedDict[int, tuple]" = OrderedDict()   # id(deal) -> (deal, its containers, Program)


def compiled(deal: Deal) -> Program:
    """The deal's Program, compiled once per distinct deal: the cache key is the deal's
    whole content (its JSON), so a deal changed in place compiles afresh. A cached Program
    is shared: the engine never writes into a Program's arrays (tests/test_engine_cache.py).
    Bad deals are not cached (compile_deal raises every time).

    The same deal object asked again is found without its JSON (microseconds, not the
    JSON's milliseconds): its parts are frozen models, so it can change in place only
    through a list or dict it holds, and each of those is checked to hold the same items."""
    with _programs_lock:
        seen = _by_object.get(id(deal))
    if seen is not None and seen[0] is deal and _unchanged(seen[1]):
        return seen[2]
    key = deal.model_dump_json()
    with _programs_lock:
        program = _programs.get(key)
        if program is not None:
            _programs.move_to_end(key)
    if program is None:
        program = compile_deal(deal)
        with _programs_lock:
            _programs[key] = program
            while len(_programs) > PROGRAM_CACHE_SIZE:
                _programs.popitem(last=False)
    with _programs_lock:
        _by_object[id(deal)] = (deal, _containers(deal), program)
        while len(_by_object) > PROGRAM_CACHE_SIZE:
            _by_object.popitem(last=False)
    return program


def _containers(deal) -> tuple:
    """Every list and dict inside a deal (the only parts of its frozen models that can
    change in place) and what each holds now."""
    from pydantic import BaseModel

    lists, dicts = [], []
    todo = [deal]
    while todo:
        obj = todo.pop()
        if isinstance(obj, BaseModel):
            todo.extend(obj.__dict__.values())
        elif isinstance(obj, list):
            lists.append(obj)
            todo.extend(obj)
        elif isinstance(obj, dict):
            dicts.append(obj)
            todo.extend(obj.values())
        elif isinstance(obj, tuple):
            todo.extend(obj)
    return lists, dicts, _holdings(lists, dicts)


def _holdings(lists, dicts) -> tuple:
    # tuples of the items themselves: comparing them checks identity first (no model
    # is compared field by field unless it was replaced)
    return list(map(tuple, lists)), list(map(tuple, map(dict.items, dicts)))


def _unchanged(record: tuple) -> bool:
    lists, dicts, held = record
    return _holdings(lists, dicts) == held


def run(deal, scenario=None, engine: str = "auto", program: Program | None = None) -> Result:
    """Run one scenario (a name in the deal, a Scenario, a scenario file, or None for base).
    The scenario is prepared first (waterfall.scenarios.prepare): portable times become
    the deal's periods, structural kinds change the deal (which then compiles afresh;
    `program` is used only when the deal is unchanged), tenant-level kinds become rent
    factors."""
    from .scenarios import prepare

    deal = resolve_deal(deal)
    scen = resolve_scenario(deal, scenario)
    run_deal, run_scen = prepare(deal, scen)
    if run_deal is not deal or program is None:
        program = compiled(run_deal)
    batch = compile_scenarios([run_scen], program)
    used = pick_engine(engine)
    if used == "reference":
        ledger, metrics, wal = reference.run_one(program, batch, 0)
    else:
        ledgers, metrics_all, wal_all = run_program(program, batch, ledgers=True, threads=1)
        ledger, metrics, wal = ledgers[0], metrics_all[0], wal_all[0]
    _finite_or_error(deal, program, [scen.name], ledger[None], metrics[None])
    return Result(deal_name=deal.name, scenario=scen.name, engine=used, program=program,
                  ledger=ledger, metric_values=metrics, wal=wal, dates=program.dates,
                  units=deal.deal.units, source_deal=deal, source_scenario=scen)


def _finite_or_error(deal: Deal, program: Program, names, ledgers, metrics) -> None:
    """No infinite amount leaves the engine: the deal's bounds keep every product finite,
    and should one still overflow the run is a DealError naming the file, the scenario,
    the ledger line and the period (never an inf in a ledger or a metric)."""
    from .load import source_of
    from .results import ledger_columns

    bad_metrics = np.isinf(metrics)
    if ledgers is not None:
        # NaN is a ratio with nothing due (DSCR) or padding of a shorter changed deal
        bad = np.isinf(ledgers)
        if bad.any():
            s, t, line = (int(i) for i in np.argwhere(bad)[0])
            columns = ledger_columns(program)
            column = columns[line] if line < len(columns) else f"line {line}"
            raise DealError(source_of(deal), [(f"scenario '{names[s]}'", f"the run overflowed: {column} is "
                                               f"infinite in period {t} (amounts, rates or scenario "
                                               "multipliers too large together)", NO_VALUE)])
    if bad_metrics.any():
        s, m = (int(i) for i in np.argwhere(bad_metrics)[0])
        raise DealError(source_of(deal), [(f"scenario '{names[s]}'", f"the run overflowed: metric "
                                           f"{_ops.METRICS[m]} is infinite (amounts, rates or scenario "
                                           "multipliers too large together)", NO_VALUE)])


def run_program(program: Program, batch: ScenarioBatch, ledgers: bool = False,
                threads: int | None = None, engine: str = "compiled", losses: bool = False, out=None,
                lanes: int = 0):
    """Run a compiled batch: (ledgers [S,T+1,L] or None, metrics [S,M], wal [S,K]), and
    with `losses` each tranche's lender loss [S,K] after them (metrics.tranche_losses; the
    kernel computes it in its metrics pass, without ledgers). The metrics, WAL and loss
    are columns of one block [S, M + K (+ K)]: `out` if given (float64, contiguous
    columns: written in place), else a new column-major one. `lanes`: the kernel's
    scenarios stepped through together (0: its choice, kernel_lanes(program); 1: one at a
    time; the same results bit for bit)."""
    if pick_engine(engine) == "reference":
        led, met, wal = reference.run_batch(program, batch)
        result = ((led if ledgers else None), met, wal)
        if losses:
            from .metrics import tranche_losses
            result += (tranche_losses(program, led, met[:, _ops.M["default_period"]]),)
        if out is not None:
            out[:] = np.hstack(result[1:])
            m, k = met.shape[1], wal.shape[1]
            result = (result[0], out[:, :m], out[:, m:m + k]) + ((out[:, m + k:],) if losses else ())
        return result
    threads = threads or default_threads()
    led, met, wal, loss, status = _kernel.run_batch(program, batch, ledgers, threads, losses, out, lanes)
    failed = np.nonzero(status[:, 0])[0]
    if len(failed):  # the kernel's dispatch ends in a failure, reported per scenario
        code, index = int(status[failed[0], 0]), int(status[failed[0], 1])
        if code == _ops.ERR_UNKNOWN_STEP:
            raise _steps.UnknownStep(index, int(program.step_op[index]))
        raise RuntimeError(f"the kernel stopped with status {code} at step {index + 1}")
    return (led, met, wal, loss) if losses else (led, met, wal)


def default_threads() -> int:
    env = os.environ.get("WATERFALL_THREADS")
    return int(env) if env else (os.cpu_count() or 1)


def default_scenarios(deal: Deal) -> list[Scenario]:
    """Every scenario of the deal, the base case first (named "base"; the deal's own
    `base` scenario if it lists one, else the unadjusted deal)."""
    return [deal.scenario("base")] + [s for s in deal.scenarios if s.name != "base"]


def run_batch(deal, scenarios=None, engine: str = "auto", ledgers: bool = False,
              threads: int | None = None, batch: ScenarioBatch | None = None) -> BatchResult:
    """Run many scenarios of one deal. `scenarios` is a list of names/Scenario objects
    (default: the base case first, named "base", then the deal's others), or pass a
    precompiled `batch`. Metrics come as a DataFrame (`.metrics`); per-period lines only
    with `ledgers=True`.

    Each scenario is prepared (waterfall.scenarios.prepare); scenarios are grouped by the
    deal they leave, each distinct deal compiles and runs once, and the rows come back
    in the order given. `program` is the unchanged deal's (or the first group's);
    ledgers of changed deals with a longer horizon are cut to it, shorter ones padded
    with NaN."""
    from .scenarios import prepare

    deal = resolve_deal(deal)
    used = pick_engine(engine)
    if batch is not None:
        program = compiled(deal)
        led, met, wal = run_program(program, batch, ledgers=ledgers, threads=threads, engine=used)
        names = batch.names if isinstance(batch.names, ScenarioNames) else list(batch.names)
        return BatchResult(deal_name=deal.name, engine=used, program=program,
                           scenario_names=names, metric_values=met, wal=wal, ledgers=led,
                           units=deal.deal.units)
    chosen = scenarios if scenarios is not None else default_scenarios(deal)
    resolved = [resolve_scenario(deal, s) for s in chosen]
    groups: dict[str, list] = {}
    deals: dict[str, Deal] = {}
    for i, scen in enumerate(resolved):
        run_deal, run_scen = prepare(deal, scen)
        key = "" if run_deal is deal else run_deal.model_dump_json()
        deals.setdefault(key, run_deal)
        groups.setdefault(key, []).append((i, run_scen))
    out_met = out_wal = out_led = None
    program = None
    for key, members in groups.items():
        group_program = compiled(deals[key])
        if program is None or key == "":
            program = group_program
        group_batch = compile_scenarios([s for _, s in members], group_program)
        led, met, wal = run_program(group_program, group_batch, ledgers=ledgers, threads=threads, engine=used)
        if out_met is None:
            out_met = np.full((len(resolved), met.shape[1]), np.nan)
            out_wal = np.full((len(resolved), wal.shape[1]), np.nan)
        rows = [i for i, _ in members]
        out_met[rows], out_wal[rows] = met, wal
        if ledgers:
            if out_led is None:
                out_led = [None] * len(resolved)
            for j, i in enumerate(rows):
                out_led[i] = led[j]
    if ledgers:
        shape = out_led[0].shape if len(groups) == 1 else None
        if shape is None:
            periods = program.n_periods + 1
            width = max(x.shape[1] for x in out_led)
            padded = np.full((len(out_led), periods, width), np.nan)
            for i, x in enumerate(out_led):
                rows_ = min(periods, x.shape[0])
                padded[i, :rows_, :x.shape[1]] = x[:rows_]
            out_led = padded
        else:
            out_led = np.stack(out_led)
    _finite_or_error(deal, program, [s.name for s in resolved], out_led, out_met)
    return BatchResult(deal_name=deal.name, engine=used, program=program,
                       scenario_names=[s.name for s in resolved], metric_values=out_met, wal=out_wal,
                       ledgers=out_led, units=deal.deal.units)


__all__ = ["kernel_available", "pick_engine", "resolve_deal", "resolve_scenario", "run", "run_batch",
           "run_program"]
