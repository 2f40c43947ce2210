"""The `waterfall` command line: run deals, list scenarios and deals, print the schema,
benchmark the kernel. Bad input exits with status 2 and one message per problem.

Only the project's own errors (waterfall/errors.py: DealError and its UnknownNameError,
OutputError) are bad input; anything else is a bug and ends in a traceback (status 1)."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import DealError, OutputError, printable
from .files import write_text_atomic
from .progress import Stages

EXIT_BAD_INPUT = 2

# Modules under waterfall/commands/ that add their own subcommands (see its __init__).
COMMAND_MODULES: list[str] = ["waterfall.commands.sweep", "waterfall.commands.presets", "waterfall.commands.portfolio",
                              "waterfall.commands.report"]


def fallback_warning(requested: str) -> str | None:
    """The warning for running the reference when the compiled kernel is asked for and
    not built (None when the engine asked for runs). Shared by every command."""
    from . import engine

    if requested == "compiled" and not engine.kernel_available():
        return f"warning: compiled kernel not built ({engine.kernel_error()}); running the reference"
    return None


def choose_engine(requested: str) -> str:
    """The engine to run: the one asked for, or the reference (with the warning on
    stderr) when the compiled kernel is asked for and not built."""
    warning = fallback_warning(requested)
    if warning:
        print(warning, file=sys.stderr)
        return "reference"
    return requested


PLOT_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".pdf")


def _check_outputs(args) -> str | None:
    """The problem with an output path of `run` (None if there is none)."""
    from pathlib import Path

    if args.formulas and not args.xlsx:
        return "--formulas needs --xlsx PATH"
    if args.xlsx and Path(args.xlsx).suffix.lower() != ".xlsx":
        return f"--xlsx {args.xlsx}: a workbook's name must end in .xlsx (for a CSV of the cash flows use --csv)"
    if args.plot:
        plot = Path(args.plot)
        if plot.suffix.lower() in PLOT_SUFFIXES or plot.is_file():
            return (f"--plot {args.plot}: takes a folder, not a file name (it writes dscr.png, "
                    f"balances.png and cash_flows.png into it); e.g. --plot {plot.with_suffix('')}")
    return None


def cmd_run(args) -> int:
    from . import engine
    from .commands.chain_run import (chain_applies, direct_only, issuer_scenario_applies, run_issuer_scenario,
                                     run_through_chain)
    from .notices import chain_notice, horizon_notices

    chosen = choose_engine(args.engine)
    problem = _check_outputs(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    deal = engine.resolve_deal(args.deal)
    if chain_applies(deal, args.scenario) and not args.direct_only:
        return run_through_chain(args, deal, chosen, _emit)
    # an instrument's base case too (its credit is its issuer's), unless a cash-flow output is
    # asked for: those come from the deal file's own cash-slice run, which says so
    base_too = not (args.csv or args.xlsx or args.plot)
    if not args.direct_only and issuer_scenario_applies(deal, args.scenario, base=base_too):
        return _issuer_scenario(args, deal)
    with Stages("run", 1 + bool(args.xlsx) + bool(args.plot), show=False if args.quiet else None) as stage:
        stage("running the waterfall")
        scen, notice = (direct_only(deal, args.scenario) if args.direct_only
                        else (engine.resolve_scenario(deal, args.scenario), None))
        result = engine.run(deal, scen, engine=chosen)
        written = _write_outputs(args, deal, scen, result, stage)
    if written is None:
        return EXIT_BAD_INPUT
    if notice and args.direct_only and _same_as_base(deal, result, chosen):
        notice += f"; its direct effect on deal '{deal.name}' is none, so these figures are the base case's"
    if notice is None and not base_too:
        notice = _slice_notice(deal)
    warnings = horizon_notices(deal) + [w for w in [notice or chain_notice(deal, scen, result, chosen)] if w]
    return _emit(args, deal, result, scen, warnings, written=written)


def _slice_notice(deal) -> str | None:
    """For an issuer's instrument written as cash flows: what those cash flows are."""
    from .commands.chain_run import issuer_of_instrument

    issuer = issuer_of_instrument(deal)
    if issuer is None:
        return None
    return (f"the cash-flow outputs are the deal file's own cash-slice run (a slice of {issuer}'s cash "
            f"flow); the instrument's credit is {issuer}'s: `waterfall run {deal.name}` without them shows "
            f"what {issuer} pays it")


def _issuer_scenario(args, deal) -> int:
    from .commands.chain_run import run_issuer_scenario
    from .errors import DealError

    try:
        return run_issuer_scenario(args, deal)
    except DealError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT


def _same_as_base(deal, result, engine_name: str) -> bool:
    import numpy as np

    from . import engine
    base = engine.run(deal, None, engine=engine_name)
    return base.ledger.shape == result.ledger.shape and bool(np.array_equal(base.ledger, result.ledger, equal_nan=True))


def _emit(args, deal, result, scen, warnings, lines=(), chain=None, written=None) -> int:
    """Print a run (summary or JSON, `lines` after the summary, `chain` in the JSON),
    writing its CSV, workbook and plots first unless `written` says they are."""
    if written is None:
        with Stages("run", max(1, bool(args.xlsx) + bool(args.plot)), show=False if args.quiet else None) as stage:
            written = _write_outputs(args, deal, scen, result, stage)
        if written is None:
            return EXIT_BAD_INPUT
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        out = {"deal": result.deal_name, "scenario": result.scenario, "engine": result.engine,
               "units": deal.deal.units, "warnings": warnings, "metrics": result.metrics}
        if chain is not None:
            out["chain"] = chain
        print(json.dumps(out, indent=2, default=str))
    else:
        from .output.summary import render_rows, summary_rows
        print(render_rows(summary_rows(result, deal.deal.units)))
        for line in lines:
            print(line)
        if args.csv:
            print(f"cash flows written to {args.csv}")
        for line in written:
            print(line)
    return 0


def _write_outputs(args, deal, scen, result, stage) -> list[str] | None:
    """Write the --csv, --xlsx and --plot files; the lines saying what was written, or None
    (after printing why) when the formula workbook does not tie out to the engine."""
    if args.csv:
        write_text_atomic(args.csv, result.cash_flows().to_csv(float_format="%.10g"))
    written = []
    if args.xlsx:
        from .output.excel import FormulaTieOutError, write_workbook
        stage("writing the workbook" + (" and checking its formulas" if args.formulas else ""))
        try:
            write_workbook(result, args.xlsx, formulas=args.formulas, deal=deal, scenario=scen)
        except FormulaTieOutError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return None
        written.append(f"workbook written to {args.xlsx}")
    if args.plot:
        from .output.plots import write_plots
        stage("drawing the plots")
        paths = write_plots(result, args.plot, deal=deal, scenario=scen)
        written.append(f"plots written to {args.plot}: " + ", ".join(p.name for p in paths))
    return written


def add_quiet(parser) -> None:
    """`--quiet`: no progress on stderr (warnings and errors still go there)."""
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def cmd_scenarios(args) -> int:
    from .load import load_deal

    deal = load_deal(args.deal)
    names = ["base"] + [s.name for s in deal.scenarios if s.name != "base"]
    for name in names:
        scen = deal.scenario(name)
        print(f"{printable(name)}\t{printable(scen.description or ('the deal as contracted' if name == 'base' else ''), 2000)}")
    return 0


def cmd_deals(args) -> int:
    from .compile import compile_deal
    from .load import builtin_deals, load_deal

    # tab-separated (cut -f, a spreadsheet), under a header saying what each column is
    print("deal\tdebt (sum of the tranches' commitments)\ttenants\tlenders\tsources cited\tfile")
    for path in builtin_deals():
        deal = load_deal(path)
        debt = float(compile_deal(deal, str(path)).amounts.sum())
        tenants = sorted({lease.tenant for lease in deal.leases}) or ["-"]
        lenders = sorted({name for t in deal.tranches for name in t.lenders}) or ["-"]
        print(f"{deal.name}\t{debt:,.0f} {deal.deal.units}\t{'; '.join(tenants)}\t"
              f"{'; '.join(lenders)}\t{_count_sources(deal)}\t{path}")
    return 0


def _count_sources(deal) -> int:
    found = set()

    def walk(obj):
        from pydantic import BaseModel
        if isinstance(obj, BaseModel):
            for src in getattr(obj, "provenance", {}).values():
                if src.source:
                    found.add(src.source)
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item)
    walk(deal)
    return len(found)


def cmd_schema(args) -> int:
    from .model import Deal, Scenario

    model = Scenario if args.scenario else Deal
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0


def cmd_bench(args) -> int:
    from .bench import bench_main
    return bench_main(args)


EXIT_INTERRUPTED = 130   # 128 + SIGINT, what a shell reports for Ctrl-C


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (a count of scenarios, threads, repeats)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class Parser(argparse.ArgumentParser):
    """argparse with 'did you mean' for a misspelled subcommand or flag, and the usage of
    the subcommand (not the top level) when a flag of a subcommand is unknown."""

    def error(self, message: str):
        from .suggest import did_you_mean
        import re

        choice = re.match(r"argument command: invalid choice: '([^']*)'", message)
        if choice and self._subparsers is not None:
            hint = did_you_mean(choice.group(1), self._commands())
            message += f"; {hint}" if hint else ""
        super().error(message)

    def _commands(self) -> list[str]:
        for action in self._subparsers._group_actions:
            if isinstance(action, argparse._SubParsersAction):
                return list(action.choices)
        return []

    def _subparser(self, name):
        for action in (self._subparsers._group_actions if self._subparsers else []):
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(name)
        return None

    def parse_args(self, args=None, namespace=None):
        from .suggest import did_you_mean

        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            owner = self._subparser(getattr(parsed, "command", None)) or self
            flags = [o for a in owner._actions for o in a.option_strings]
            notes = []
            for extra in extras:
                hint = did_you_mean(extra.split("=")[0], flags) if extra.startswith("-") else ""
                notes.append(f"{extra} ({hint})" if hint else extra)
            owner.error("unrecognized arguments: " + " ".join(notes))
        return parsed


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = Parser(prog="waterfall", description=__doc__)
    parser.add_argument("--version", action="version", version=f"waterfall {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=argparse.ArgumentParser)

    run = sub.add_parser("run", help="run a deal under one scenario")
    run.add_argument("deal", help="a deal file, or the name of a built-in deal")
    run.add_argument("--scenario", default="base", help="scenario name in the deal, or a scenario file")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--csv", metavar="PATH", help="write per-period cash flows to CSV")
    run.add_argument("--engine", choices=["compiled", "reference"], default="compiled")
    run.add_argument("--xlsx", metavar="PATH",
                     help="write an Excel workbook: Summary, Cash flows, Scenarios (and Inputs with --formulas)")
    run.add_argument("--formulas", action="store_true",
                     help="with --xlsx: build Cash flows from live Excel formulas over an Inputs sheet")
    run.add_argument("--plot", metavar="DIR", help="write PNG plots (DSCR by scenario, balances, cash flows)")
    run.add_argument("--direct-only", action="store_true",
                     help="with a stress preset: its direct effects on this deal alone, without the contagion chain")
    add_quiet(run)
    run.set_defaults(func=cmd_run)

    scen = sub.add_parser("scenarios", help="list a deal's scenarios")
    scen.add_argument("deal")
    scen.set_defaults(func=cmd_scenarios)

    deals = sub.add_parser("deals", help="list the built-in deals")
    deals.set_defaults(func=cmd_deals)

    schema = sub.add_parser("schema", help="print the JSON Schema of a deal file")
    schema.add_argument("--scenario", action="store_true", help="the schema of a scenario file instead")
    schema.set_defaults(func=cmd_schema)

    bench = sub.add_parser("bench", help="time the compiled kernel against the reference")
    bench.add_argument("deal", nargs="?", default=None)
    bench.add_argument("--scenarios", type=positive_int, default=100_000, help="scenarios to time (>= 1)")
    bench.add_argument("--threads", type=positive_int, default=None, help="kernel threads (default: all cores)")
    bench.add_argument("--reference-sample", type=positive_int, default=200,
                       help="scenarios the reference runs to compare with (>= 1)")
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--repeats", type=positive_int, default=5,
                       help="time the kernel this many times, keep the fastest")
    bench.add_argument("--json", action="store_true")
    add_quiet(bench)
    bench.set_defaults(func=cmd_bench)

    import importlib
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: stop cleanly (a sweep says what it saved itself)
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:   # `waterfall schema | head -1`: the reader closed the pipe
        # nothing more can be written; point stdout at /dev/null so the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except DealError as exc:  # a bad deal or scenario file, an unknown deal or scenario name
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as exc:  # an output path that cannot be written (a full disk, no such folder)
        print(f"error: {printable(exc, 1000)}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
