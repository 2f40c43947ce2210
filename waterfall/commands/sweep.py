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


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="sensitivity grids and Monte Carlo over deal and scenario inputs",
        description="Run a deal over a grid of inputs (the product of the --vary axes) or a Monte "
                    "Carlo sample, on the compiled kernel in chunks (the reference, with a warning, "
                    "when the kernel is not built); write a row per point with its inputs and "
                    "metrics. Rerunning with the same --out resumes an interrupted sweep.")
    p.add_argument("deal", help="a deal file, or the name of a built-in deal")
    p.add_argument("--vary", action="append", required=True, metavar="PATH=SPEC", help=VARY_HELP)
    p.add_argument("--samples", type=int, default=None, help="Monte Carlo: number of samples")
    p.add_argument("--seed", type=int, default=None, help="Monte Carlo seed (same seed, same results)")
    p.add_argument("--corr", action="append", default=[], metavar="PATH_A,PATH_B=RHO",
                   help="correlation of two Monte Carlo inputs (Gaussian copula)")
    p.add_argument("--scenario", default="base", help="the scenario the sweep starts from")
    p.add_argument("--out", required=True, metavar="FILE", help="output table: .parquet, .csv or .xlsx")
    p.add_argument("--dask", default=None, metavar="ADDRESS|local",
                   help="run chunks on a dask.distributed scheduler, or a LocalCluster with 'local'")
    p.add_argument("--chunk-size", type=int, default=None, help="points per chunk")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--engine", choices=["compiled", "reference"], default="compiled",
                   help="the compiled kernel (default; the reference, with a warning, if it is not "
                        "built) or the pure-Python reference")
    p.add_argument("--plot", metavar="DIR", default=None, help="write PNG charts to DIR")
    p.add_argument("--quiet", action="store_true", help="no summary on stdout")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args) -> int:
    from ..cli import fallback_warning
    from ..errors import DealError
    from ..sweeps import PathError, SweepError, sweep
    from ..sweeps.analysis import loss_distribution

    monte_carlo = args.samples is not None
    try:
        vary = dict(parse_vary(v, monte_carlo) for v in args.vary)
        if len(vary) != len(args.vary):
            raise UsageError("--vary: a path is given twice")
        correlations = dict(parse_corr(c) for c in args.corr)
        if args.chunk_size is not None and args.chunk_size < 1:
            raise UsageError("--chunk-size must be at least 1")
        warning = fallback_warning(args.engine)  # said once the sweep is checked and starts

        def start(engine):
            if warning:
                print(warning, file=sys.stderr)
        frame = sweep(args.deal, vary, samples=args.samples, seed=args.seed, scenario=args.scenario,
                      correlations=correlations or None, out=args.out, chunk_size=args.chunk_size,
                      dask=args.dask, threads=args.threads, engine="reference" if warning else args.engine,
                      on_start=start)
    except (UsageError, PathError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DealError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        a = frame.attrs
        print(f"{len(frame):,} points ({a['mode']}{'' if a['seed'] is None else ', seed ' + str(a['seed'])}) "
              f"written to {args.out}; {a['computed_points']:,} computed in {a['seconds']:.2f} s "
              f"({a['points_per_second']:,.0f} points/s)")
        if a["mode"] == "montecarlo":
            print(loss_distribution(frame).to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
        elif len(a["inputs"]) == 2 and len(frame) <= 400:
            table = frame.pivot_table(index=a["inputs"][0], columns=a["inputs"][1], values="lender_loss")
            print("lender_loss:")
            print(table.to_string(float_format=lambda v: f"{v:,.2f}"))
    if args.plot:
        from ..sweeps.plots import plot_sweep
        for path in plot_sweep(frame, Path(args.plot)):
            if not args.quiet:
                print(f"chart: {path}")
    return 0
