"""The `waterfall` command line: run deals, list scenarios and deals, print the schema,
benchmark the kernel. Bad input exits with status 2 and one message per problem.

Only the project's own errors (waterfall/errors.py: DealError and its UnknownNameError,
OutputError) are bad input; anything else is a bug and ends in a traceback (status 1)."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import DealError, OutputError
from .files import write_text_atomic

EXIT_BAD_INPUT = 2

# Modules under waterfall/commands/ that add their own subcommands (see its __init__).
COMMAND_MODULES: list[str] = ["waterfall.commands.sweep", "waterfall.commands.presets", "waterfall.commands.portfolio"]


def _fmt(value, kind: str = "ratio") -> str:
    if value is None:
        return "-"
    if kind == "ratio":
        return f"{value:.4f}x"
    if kind == "pct":
        return f"{value * 100:.3f}%"
    if kind == "amount":
        return f"{value:,.3f}"
    return str(value)


def _summary(result) -> str:
    m = result.metrics
    units = "USD millions"
    rows = [
        ("deal", result.deal_name), ("scenario", result.scenario), ("engine", result.engine),
        ("min DSCR", _fmt(m["min_dscr"])), ("average DSCR", _fmt(m["avg_dscr"])),
        ("LLCR", _fmt(m["llcr"])), ("PLCR", _fmt(m["plcr"])),
        ("default period", "none" if m["default_period"] is None
         else f"{m['default_period']} ({m['default_date']}; cause: {m['default_cause']})"),
        (f"lender claim ({units})", _fmt(m["lender_claim"] if m["default_period"] else None, "amount")),
        ("workout before the final recovery (periods)",
         "-" if m["recovery_periods"] is None else str(m["recovery_periods"])),
        ("recovery rate", _fmt(m["recovery_rate"], "pct")),
        ("recovery rate, PV at the contract rate", _fmt(m["recovery_rate_pv"], "pct")),
        (f"lender loss ({units})", _fmt(m["lender_loss"], "amount")),
        (f"lender loss, PV ({units})", _fmt(m["lender_loss_pv"], "amount")),
        ("lender IRR", _fmt(m["lender_irr"], "pct")), ("equity IRR", _fmt(m["equity_irr"], "pct")),
        ("lender XIRR (actual dates)", _fmt(m["lender_xirr"], "pct")),
        ("equity XIRR (actual dates)", _fmt(m["equity_xirr"], "pct")),
        (f"equity invested ({units})", _fmt(m["equity_invested"], "amount")),
        (f"equity distributions ({units})", _fmt(m["equity_distributions"], "amount")),
    ]
    rows += [(f"WAL {name} (years)", "-" if w is None else f"{w:.3f}") for name, w in m["wal_years"].items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


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


def cmd_run(args) -> int:
    from . import engine

    chosen = choose_engine(args.engine)
    if args.formulas and not args.xlsx:
        print("error: --formulas needs --xlsx PATH", file=sys.stderr)
        return EXIT_BAD_INPUT
    deal = engine.resolve_deal(args.deal) if (args.xlsx or args.plot) else args.deal
    result = engine.run(deal, args.scenario, engine=chosen)
    if args.csv:
        write_text_atomic(args.csv, result.cash_flows().to_csv(float_format="%.10g"))
    written = []
    if args.xlsx:
        from .output.excel import FormulaTieOutError, write_workbook
        try:
            write_workbook(result, args.xlsx, formulas=args.formulas, deal=deal, scenario=args.scenario)
        except FormulaTieOutError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        written.append(f"workbook written to {args.xlsx}")
    if args.plot:
        from .output.plots import write_plots
        paths = write_plots(result, args.plot, deal=deal, scenario=args.scenario)
        written.append(f"plots written to {args.plot}: " + ", ".join(p.name for p in paths))
    if args.json:
        print(json.dumps({"deal": result.deal_name, "scenario": result.scenario,
                          "engine": result.engine, "metrics": result.metrics}, indent=2))
    else:
        print(_summary(result))
        if args.csv:
            print(f"cash flows written to {args.csv}")
        for line in written:
            print(line)
    return 0


def cmd_scenarios(args) -> int:
    from .load import load_deal

    deal = load_deal(args.deal)
    names = ["base"] + [s.name for s in deal.scenarios if s.name != "base"]
    for name in names:
        scen = deal.scenario(name)
        print(f"{name}\t{scen.description}")
    return 0


def cmd_deals(args) -> int:
    from .load import builtin_deals, load_deal

    for path in builtin_deals():
        deal = load_deal(path)
        from .compile import compile_deal
        debt = float(compile_deal(deal, str(path)).amounts.sum())
        tenants = sorted({lease.tenant for lease in deal.leases}) or ["-"]
        lenders = sorted({name for t in deal.tranches for name in t.lenders}) or ["-"]
        sources = _count_sources(deal)
        print(f"{deal.name}\t{debt:,.2f} {deal.deal.units}\ttenant: {', '.join(tenants)}\t"
              f"lenders: {', '.join(lenders)}\tsources: {sources}\t{path}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waterfall", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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
    bench.add_argument("--scenarios", type=int, default=100_000)
    bench.add_argument("--threads", type=int, default=None)
    bench.add_argument("--reference-sample", type=int, default=200)
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--repeats", type=int, default=5, help="time the kernel this many times, keep the fastest")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)

    import importlib
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:   # `waterfall schema | head -1`: the reader closed the pipe
        # nothing more can be written; point stdout at /dev/null so the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except DealError as exc:  # a bad deal or scenario file, an unknown deal or scenario name
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as exc:  # an output path that cannot be written
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
