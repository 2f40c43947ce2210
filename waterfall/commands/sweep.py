"""`waterfall sweep`: grids and Monte Carlo over any numeric input of a deal or scenario."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

EXIT_BAD_INPUT = 2

VARY_HELP = ("PATH=START:STOP:STEPS (a grid axis), PATH=V1,V2,... (listed values), or with --samples "
             "PATH=uniform:LO:HI | normal:MEAN:SD | triangular:LO:MODE:HI | lognormal:MU:SIGMA "
             "(LO:HI alone is uniform). PATH is a dotted path into the deal (tranches.senior.rate.spread, "
             "leases.0.annual_rent, covenants.lock_up_dscr) or the scenario (scenario.tenant_default.period, "
             "scenario.tenant_default.relet_haircut, scenario.rate_shock.bp, scenario.rent_multiplier.multiplier)")


class UsageError(ValueError):
    pass


def parse_vary(text: str, monte_carlo: bool):
    """'PATH=SPEC' -> (path, values or distribution text)."""
    if "=" not in text:
        raise UsageError(f"--vary {text}: expected PATH=SPEC ({VARY_HELP.split(' PATH is')[0]})")
    path, spec = (s.strip() for s in text.split("=", 1))
    if not path or not spec:
        raise UsageError(f"--vary {text}: expected PATH=SPEC")
    parts = spec.split(":")
    head = parts[0].strip().lower()
    if head in ("uniform", "normal", "triangular", "lognormal"):
        if not monte_carlo:
            raise UsageError(f"--vary {path}: a distribution ({head}) needs --samples N")
        return path, spec
    try:
        if len(parts) == 3:
            start, stop, steps = float(parts[0]), float(parts[1]), parts[2]
            if monte_carlo:
                raise UsageError(f"--vary {path}: with --samples give a distribution "
                                 "(uniform:LO:HI, normal:MEAN:SD, ...), not START:STOP:STEPS")
            n = int(steps)
            if n < 1 or float(steps) != n:
                raise UsageError(f"--vary {path}: STEPS must be a whole number >= 1, got {steps}")
            from ..sweeps.runner import MAX_AXIS
            if n > MAX_AXIS:
                raise UsageError(f"--vary {path}: {n:,} steps; a grid axis may have at most {MAX_AXIS:,}")
            return path, np.linspace(start, stop, n)
        if len(parts) == 2:
            lo, hi = float(parts[0]), float(parts[1])
            if monte_carlo:
                return path, f"uniform:{lo!r}:{hi!r}"
            raise UsageError(f"--vary {path}: expected START:STOP:STEPS, got {spec}")
        values = [float(v) for v in spec.split(",") if v.strip()]
    except UsageError:
        raise
    except ValueError:
        raise UsageError(f"--vary {path}: cannot read '{spec}' ({VARY_HELP.split(' PATH is')[0]})") from None
    if monte_carlo:
        raise UsageError(f"--vary {path}: with --samples give a distribution (uniform:LO:HI, ...)")
    if not values:
        raise UsageError(f"--vary {path}: no values")
    return path, values


def parse_corr(text: str):
    try:
        pair, rho = text.rsplit("=", 1)
        a, b = (s.strip() for s in pair.split(","))
        return (a, b), float(rho)
    except ValueError:
        raise UsageError(f"--corr {text}: expected PATH_A,PATH_B=RHO") from None


PRINT_LIMIT = 200          # a sweep this small may omit --out: its table is printed
EXIT_INTERRUPTED = 130


def _count(text: str) -> int:
    from ..cli import positive_int
    return positive_int(text)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="sensitivity grids and Monte Carlo over deal and scenario inputs",
        description="Run a deal over a grid of inputs (the product of the --vary axes) or a Monte "
                    "Carlo sample, on the compiled kernel in chunks (the reference, with a warning, "
                    "when the kernel is not built); write a row per point with its inputs and "
                    "metrics. Rerunning with the same --out resumes an interrupted sweep.")
    p.add_argument("deal", help="a deal file, or the name of a built-in deal")
    p.add_argument("--vary", action="append", required=True, metavar="PATH=SPEC", help=VARY_HELP)
    p.add_argument("--samples", type=_count, default=None, help="Monte Carlo: number of samples")
    p.add_argument("--seed", type=int, default=None, help="Monte Carlo seed (same seed, same results)")
    p.add_argument("--corr", action="append", default=[], metavar="PATH_A,PATH_B=RHO",
                   help="correlation of two Monte Carlo inputs (Gaussian copula)")
    p.add_argument("--scenario", default="base", help="the scenario the sweep starts from")
    p.add_argument("--out", default=None, metavar="FILE",
                   help=f"output table: .parquet, .csv or .xlsx (optional up to {PRINT_LIMIT} points: "
                        "the table is then printed); an interrupted sweep resumes from it")
    p.add_argument("--dask", default=None, metavar="ADDRESS|local",
                   help="run chunks on a dask.distributed scheduler, or a LocalCluster with 'local'")
    p.add_argument("--chunk-size", type=_count, default=None, help="points per chunk")
    p.add_argument("--threads", type=_count, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--engine", choices=["compiled", "reference"], default="compiled",
                   help="the compiled kernel (default; the reference, with a warning, if it is not "
                        "built) or the pure-Python reference")
    p.add_argument("--plot", metavar="DIR", default=None, help="write PNG charts to DIR")
    p.add_argument("--quiet", action="store_true", help="no summary on stdout and no progress on stderr")
    p.set_defaults(func=cmd_sweep)


def _points(vary: dict, samples) -> int:
    """How many points the sweep has (the grid's product, or the samples)."""
    if samples is not None:
        return int(samples)
    return int(np.prod([1 if isinstance(v, str) else len(v) for v in vary.values()]))


def cmd_sweep(args) -> int:
    from ..cli import fallback_warning
    from ..errors import DealError
    from ..sweeps import PathError, SweepError, sweep

    monte_carlo = args.samples is not None
    try:
        vary = dict(parse_vary(v, monte_carlo) for v in args.vary)
        if len(vary) != len(args.vary):
            raise UsageError("--vary: a path is given twice")
        correlations = dict(parse_corr(c) for c in args.corr)
        n = _points(vary, args.samples)
        if args.out is None and n > PRINT_LIMIT:
            raise UsageError(f"a sweep of {n:,} points needs --out FILE (.parquet, .csv or .xlsx); "
                             f"up to {PRINT_LIMIT} points the table is printed instead")
        warning = fallback_warning(args.engine)  # said once the sweep is checked and starts

        def start(engine):
            if warning:
                print(warning, file=sys.stderr)
        frame = sweep(args.deal, vary, samples=args.samples, seed=args.seed, scenario=args.scenario,
                      correlations=correlations or None, out=args.out, chunk_size=args.chunk_size,
                      dask=args.dask, threads=args.threads, engine="reference" if warning else args.engine,
                      on_start=start, progress=False if args.quiet else None)
    except KeyboardInterrupt:
        print(interrupted_message(args), file=sys.stderr)
        return EXIT_INTERRUPTED
    except PathError as exc:
        print(f"error: --vary {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UsageError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DealError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        print(summary(frame, args))
    if args.plot:
        from ..sweeps.plots import plot_sweep
        for path in plot_sweep(frame, Path(args.plot)):
            if not args.quiet:
                print(f"chart: {path}")
    return 0


def interrupted_message(args) -> str:
    """What an interrupted sweep kept and how to resume it."""
    import json

    if args.out is None:
        return "\ninterrupted: nothing was saved (no --out FILE); rerun with --out FILE to make a sweep resumable"
    chunks = Path(args.out).with_name(Path(args.out).name + ".chunks")
    saved, total = 0, None
    for path in chunks.glob("chunk-*.npz"):
        try:
            _, a, b = path.stem.split("-")
            saved += int(b) - int(a)
        except ValueError:
            continue
    try:
        total = json.loads((chunks / "manifest.json").read_text())["n_points"]
    except (OSError, ValueError, KeyError):
        pass
    of = f" of {total:,}" if total else ""
    if not saved:
        return f"\ninterrupted: no chunk was finished yet{of and ' (' + of.strip() + ' points)'}; nothing to resume"
    return (f"\ninterrupted: {saved:,}{of} points are saved in {chunks}/; run the same command again "
            f"(same --vary, --seed and --out) to resume from them")


def summary(frame, args) -> str:
    """The printed result: the count and speed, then the loss distribution (Monte Carlo), the
    2-D table of lender loss (two inputs), or the rows (one input, or a small grid)."""
    from ..sweeps.analysis import loss_distribution

    from ..engine import resolve_deal

    a = frame.attrs
    where = f"written to {args.out}" if args.out else "(not written: no --out)"
    units = resolve_deal(args.deal).deal.units
    lines = [f"{len(frame):,} points ({a['mode']}{'' if a['seed'] is None else ', seed ' + str(a['seed'])}) "
             f"{where}; {a['computed_points']:,} computed in {a['seconds']:.2f} s "
             f"({a['points_per_second']:,.0f} points/s); amounts in {units}"]
    if a["mode"] == "montecarlo":
        lines.append(loss_table(loss_distribution(frame)))
    elif len(a["inputs"]) == 2 and len(frame) <= 400:
        table = frame.pivot_table(index=a["inputs"][0], columns=a["inputs"][1], values="lender_loss")
        lines += ["lender_loss:", table.to_string(float_format=lambda v: f"{v:,.2f}")]
    elif len(frame) <= PRINT_LIMIT:
        lines.append(point_table(frame))
    return "\n".join(lines)


def loss_table(dist) -> str:
    """The loss distribution with the probability of a loss as a percentage and the
    amounts (expected loss, VaR, CVaR, maximum) in the deal's units."""
    from ..output.summary import aligned, amount, pct

    amounts = [c for c in dist.columns if c not in ("holder", "kind", "prob_loss")]
    heads = ["holder", "kind", "P(loss)"] + [c.replace("_", " ").replace("var", "VaR").replace("cVaR", "CVaR")
                                            for c in amounts]
    rows = [[r["holder"], r["kind"], pct(r["prob_loss"], 1)] + [amount(r[c], 2) for c in amounts]
            for _, r in dist.iterrows()]
    return aligned(heads, rows, left=2)


def point_table(frame) -> str:
    """A row per point: the inputs, then the main metrics (ratios as x, rates as %)."""
    from ..output.summary import amount, pct, ratio

    inputs = list(frame.attrs["inputs"])
    shown = {"min_dscr": ("min DSCR", ratio), "default_period": ("default period", _period),
             "recovery_rate": ("recovery", lambda v: pct(v, 1)), "lender_loss": ("lender loss", amount),
             "lender_irr": ("lender IRR", lambda v: pct(v, 2)), "equity_irr": ("equity IRR", lambda v: pct(v, 2))}
    table = frame[inputs + list(shown)].astype(object).where(frame[inputs + list(shown)].notna(), None)
    for col, (_label, fmt) in shown.items():
        table[col] = [fmt(v) for v in table[col]]
    return table.rename(columns={k: v[0] for k, v in shown.items()}).to_string(index=False)


def _period(value) -> str:
    return "-" if value is None else str(int(value))
