"""`waterfall report DEAL [--scenario NAME] --out FILE.html|.pdf`: the one-page credit
committee pack (waterfall.report)."""
from __future__ import annotations


def register(subparsers) -> None:
    from ..cli import add_quiet

    p = subparsers.add_parser(
        "report", help="write a one-page credit committee pack (HTML, or PDF through headless Chromium)",
        description="Deal terms with their sources, sources and uses at close, the scenario's metrics and "
                    "DSCR chart against the covenants, the seven stress presets side by side, breakevens "
                    "per tranche, and the recovery with its basis.")
    p.add_argument("deal", help="a deal file, or the name of a built-in deal")
    p.add_argument("--scenario", default="base", help="scenario name in the deal, a preset, or a scenario file")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.html (self-contained) or FILE.pdf")
    p.add_argument("--engine", choices=["compiled", "reference"], default="compiled")
    add_quiet(p)
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from pathlib import Path

    from ..cli import choose_engine
    from ..errors import OutputError
    from ..progress import Stages
    from ..report import build_pack, write_report

    if Path(args.out).suffix.lower() not in (".html", ".htm", ".pdf"):
        raise OutputError(args.out, f"the report is written as .html or .pdf, not '{Path(args.out).suffix}'")
    if Path(args.out).suffix.lower() == ".pdf":
        from ..report.pdf import chromium
        if chromium() is None:
            raise OutputError(args.out, "a PDF needs headless Chromium, which is not installed "
                                        "(apt-get install -y chromium); or write .html")
    engine = choose_engine(args.engine)
    with Stages("report", 2, show=False if args.quiet else None) as stage:
        stage("running the scenario, the seven presets and the breakevens")
        pack = build_pack(args.deal, args.scenario, engine=engine)
        stage("printing the PDF in headless Chromium" if args.out.lower().endswith(".pdf") else "writing the page")
        write_report(pack, args.out)
    print(f"report written to {args.out}")
    return 0
