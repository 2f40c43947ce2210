"""`waterfall portfolio`: every deal in deals/ (not the examples) under one preset,
through the contagion chain; per deal, per lender and per sponsor, and the total
against the ~$100B headline.

Per tranche, at an event of default (waterfall.metrics.tranche_default_split, the one
definition the sweeps use too): exposure = what was due that period (balance before
recovery, principal paid, cash interest due); recovery = what the lenders got that
period (interest and principal paid, recoveries); loss = exposure - recovery (the
engine's lender_claim / lender_received / lender_loss, split by tranche). A lender's
figures are its shares of its tranches'. A sponsor's exposure is its share of the
equity paid in (including support), recovery its share of the distributions, loss the
shortfall of one below the other. No default: exposure and loss are zero.
"""
from __future__ import annotations

import json
import math
import sys

import numpy as np

from ..files import write_text_atomic

EXIT_BAD_INPUT = 2
SCOPES = ("headline", "comparable", "prospective", "unlinked")
SCOPE_LABELS = {"headline": "counted by the source analysis (~$100B)", "comparable": "comparables (Meta Hyperion)",
                "prospective": "prospective (Oracle's 100bn programme)", "unlinked": "not in the entity graph"}


def register(subparsers) -> None:
    from ..cli import add_quiet

    p = subparsers.add_parser("portfolio", help="every deal under one preset, through the contagion chain",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="base", metavar="PRESET",
                   help="a preset name (waterfall presets) or file; default: base")
    p.add_argument("--entities", default=None, metavar="FILE", help="entity graph (default scenarios/entities.toml)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--csv", metavar="PATH", help="write the per-deal table to CSV")
    p.add_argument("--xlsx", metavar="PATH", help="write deals, lenders and sponsors to an Excel workbook")
    p.add_argument("--simulate", type=_paths, default=None, metavar="N",
                   help="N joint paths of correlated issuer defaults (the graph's [simulation]) instead of a preset")
    p.add_argument("--seed", type=int, default=0, help="with --simulate: the random seed (default 0)")
    from .simulate import add_arguments
    add_arguments(p)
    add_quiet(p)
    p.set_defaults(func=cmd_portfolio)


def _paths(text: str) -> int:
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of paths, got {text!r}") from None
    if not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError(f"between 1 and 10,000,000 paths, got {value}")
    return value


def portfolio_deals():
    """Every non-example deal in deals/."""
    from ..load import DEALS_DIR, builtin_deals, load_deal

    examples = DEALS_DIR / "examples"
    return [load_deal(p) for p in builtin_deals() if examples not in p.parents]


def tranche_exposures(result) -> list[dict]:
    """Per tranche: commitment, exposure at default, recovery, loss (see module doc)."""
    from ..metrics import tranche_default_split

    program = result.program
    split = tranche_default_split(program, result.ledger, result.metrics["default_period"])
    return [{"tranche": name, "commitment": float(program.amounts[k]),
             "exposure": float(split["exposure"][k]), "recovery": float(split["recovery"][k]),
             "loss": float(split["loss"][k])}
            for k, name in enumerate(program.names["tranches"])]


class Portfolio(dict):
    """What run_portfolio returns: a dict (preset, units, deals, lenders, sponsors,
    totals, ...) with a short repr and an HTML table for notebooks."""

    def __repr__(self) -> str:
        from ..output.notebook import portfolio_repr
        return portfolio_repr(self)

    def _repr_html_(self) -> str:
        from ..output.notebook import portfolio_html
        return portfolio_html(self)


def run_portfolio(preset_name="base", entities=None, only: str | None = None, engine: str = "auto",
                  stress: dict | None = None, label: str | None = None) -> dict:
    """Every deal (or `only` that one) under a preset through the chain: the issuers, the
    SPVs' waterfalls under the chain's scenario, then the claims on defaulted issuers
    (waterfall.settlement). `waterfall run DEAL --scenario PRESET` is this with `only`;
    `waterfall run INSTRUMENT --scenario ITS-OWN` is this on the base case with `stress`
    ({issuer: IssuerStress}, waterfall.issuer_stress) and `label` naming it."""
    from ..contagion import check_graph, load_graph
    from ..scenarios.presets import load_preset

    preset = load_preset(preset_name)
    graph = load_graph(entities) if entities else load_graph()
    deals = portfolio_deals()
    by_name = {d.name: d for d in deals}
    problems = check_graph(graph, by_name)
    if problems:
        from ..contagion import ENTITIES_FILE
        from ..errors import DealError
        raise DealError(str(entities or ENTITIES_FILE), problems)
    warnings: list[str] = []
    rows, outcome, issuers = chain_rows(graph, preset, deals, only, engine=engine, stress=stress)
    lenders, sponsors = holders(rows, by_name)
    keys = ("debt", "exposure", "loss", "recovery")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    scope = {link.deal: link.scope for link in graph.deals}
    for r in rows:
        r["scope"] = scope.get(r["deal"], "unlinked")
    totals["by_scope"] = {s: {k: sum(r[k] for r in rows if r["scope"] == s) for k in keys}
                          for s in SCOPES if any(r["scope"] == s for r in rows)}
    totals["headline_scope_debt"] = totals["by_scope"].get("headline", {}).get("debt", 0.0)
    totals["lenders_by_scope"] = _lenders_by_scope(rows, by_name)
    return Portfolio({"preset": label or preset.name, "units": "USD millions", "deals": rows, "lenders": lenders,
            "sponsors": sponsors, "totals": totals, "headline_debt": graph.headline_debt * 1000.0,
            "warnings": warnings, "pay_ratio": outcome.pay_ratio[:10],
            "refinancing_closed_years": outcome.refi_closed,
            "entities": {k: _entity(v, issuers.get(k)) for k, v in outcome.entities.items()}})


def chain_rows(graph, preset, deals: list, only: str | None = None, forced: dict | None = None,
               engine: str = "auto", stress: dict | None = None):
    """(rows, chain outcome, resolved issuers) for `deals` (or just `only`) under
    `preset` through `graph`: the one code path behind `portfolio` and `run --scenario`
    (and, with `forced` issuer defaults, the simulation's loss tables)."""
    from ..contagion import run_chain
    from ..settlement import settle

    by_name = {d.name: d for d in deals}
    outcome = run_chain(graph, None if preset.name == "base" and not preset.adjustments else preset, by_name, forced,
                        stress)
    owners = {i.deal: o.name for o in graph.obligors for i in o.instruments if i.deal}
    guaranteed = {name: o.name for o in graph.obligors for name in o.guarantees}
    wanted = [d for d in deals if only is None or d.name == only]
    spv = {d.name: _spv_row(outcome, d, preset, engine) for d in deals
           if d.name not in owners and (d in wanted or d.name in guaranteed)}
    losses = {name: spv[name]["loss"] for name in guaranteed if name in spv}
    claims, issuers = settle(outcome, by_name, losses)
    rows = []
    for deal in wanted:
        if deal.name in owners:
            rows.append(_instrument_row(deal, issuers[owners[deal.name]]))
            continue
        extra = [{"kind": c.kind, "issuer": c.issuer, "claim": c.claim, "recovered": c.recovered,
                  "paid_on": c.paid_on.isoformat()} for c in claims.get(deal.name, [])]
        if deal.name in guaranteed:
            extra += _guarantee(issuers[guaranteed[deal.name]], deal.name)
        rows.append(_with_claims(spv[deal.name], extra))
    for row in rows:
        row["driver"] = loss_driver(row)
    return rows, outcome, issuers


def _guarantee(g, name: str) -> list[dict]:
    """What a defaulted guarantor's estate pays on its guarantee of deal `name` (USD m)."""
    got = g.recoveries.get(f"guarantee of {name}", 0.0) * 1000.0
    if got <= 0:
        return []
    return [{"kind": "guarantee", "issuer": g.name, "claim": g.claims[f"guarantee of {name}"] * 1000.0,
             "recovered": got, "paid_on": g.default_date.isoformat()}]


def _entity(state, issuer) -> dict:
    """The chain's path for one entity: default (date, cause), walk, cash by year-end."""
    out = {"default_year": state.default_year, "walk_year": state.walk_year}
    if issuer is not None:
        out.update(default_date=issuer.default_date.isoformat() if issuer.default_date else None,
                   cause=issuer.cause or None,
                   senior_unsecured_recovery=issuer.class_rate("senior_unsecured"),
                   cash=[round(p["cash"], 3) for p in issuer.path[3::4][:10]],
                   debt=[round(p["debt"], 3) for p in issuer.path[3::4][:10]],
                   free_cash_flow=[round(sum(q["free_cash_flow"] for q in issuer.path[4 * y:4 * y + 4]) / 4, 3)
                                   for y in range(min(10, len(issuer.path) // 4))],
                   market_open=[p["market_open"] for p in issuer.path[3::4][:10]],
                   quarters_shut=sum(1 for p in issuer.path[:40] if not p["market_open"]),
                   quarters_run=min(40, len(issuer.path)))
    return out


def _spv_row(outcome, deal, preset, engine_name: str = "auto") -> dict:
    """A deal run by the engine under the chain's scenario for it."""
    from .. import engine
    from ..contagion import deal_scenario

    scen, notes = deal_scenario(outcome, deal, preset)
    result = engine.run(deal, scen, engine=engine_name)
    m = result.metrics
    tranches = tranche_exposures(result)
    return {"deal": deal.name, "kind": "spv", "scenario": scen, "notes": notes, "result": result,
            "default_period": m["default_period"], "min_dscr": m["min_dscr"],
            "recovery_rate": m["recovery_rate"], "equity_irr": m["equity_irr"],
            "default_cause": m["default_cause"], "recovery_rate_pv": m["recovery_rate_pv"],
            "recovery_periods": m["recovery_periods"],
            "debt": float(result.program.amounts.sum()),
            "exposure": sum(t["exposure"] for t in tranches),
            "loss": sum(t["loss"] for t in tranches),
            "recovery": sum(t["recovery"] for t in tranches),
            "lender_loss": m["lender_loss"], "metrics": m, "tranches": tranches,
            "equity_invested": m["equity_invested"] or 0.0,
            "equity_distributions": m["equity_distributions"] or 0.0,
            "period_length": deal.timeline.period, "claims": []}


def _with_claims(row: dict, claims: list[dict]) -> dict:
    """What the SPV collects on its claims goes to its lenders up to their loss (pro rata
    by tranche loss), the rest to its sponsors."""
    got = sum(c["recovered"] for c in claims)
    row["claims"] = claims
    if got <= 0:
        return row
    loss = row["loss"]
    to_lenders = min(got, loss)
    for t in row["tranches"]:
        part = to_lenders * (t["loss"] / loss) if loss > 0 else 0.0
        t["loss"] -= part
        t["recovery"] += part
    row["loss"] -= to_lenders
    row["recovery"] += to_lenders
    row["lender_loss"] = row["loss"]
    row["claims_to_lenders"] = to_lenders
    row["equity_distributions"] += got - to_lenders
    if row["exposure"] > 0:
        row["recovery_rate"] = row["recovery"] / row["exposure"]
    return row


def _instrument_row(deal, issuer) -> dict:
    """A deal that is an issuer's instrument: its claim at the issuer's default and what
    the estate pays it (waterfall.issuers, waterfall.claims), by tranche."""
    from ..contagion import deal_period

    d = issuer.default_date
    tranches = []
    for tr in deal.tranches:
        key = f"{deal.name}/{tr.name}"
        claim = issuer.claims.get(key, 0.0) * 1000.0 if d else 0.0
        rec = issuer.recoveries.get(key, 0.0) * 1000.0 if d else 0.0
        paid = issuer.instruments.get(key, {})
        tranches.append({"tranche": tr.name, "commitment": float(tr.amount), "exposure": claim,
                         "recovery": rec, "loss": claim - rec, "issued": paid.get("issued", True),
                         "refinanced": paid.get("refinanced", 0),
                         "repaid_on": paid["repaid_on"].isoformat() if paid.get("repaid_on") else None})
    exposure = sum(t["exposure"] for t in tranches)
    recovery = sum(t["recovery"] for t in tranches)
    hit = d is not None and exposure > 0
    period = deal_period(deal, d) if hit else None
    metrics = {"default_period": period, "default_date": d.isoformat() if hit else None,
               "equity_irr": None, "default_cause": "issuer default" if hit else None}
    return {"deal": deal.name, "kind": "instrument", "issuer": issuer.name, "scenario": None,
            "notes": [f"instrument of {issuer.name}, which defaults on {d} ({issuer.cause})"] if d else [],
            "default_period": period, "min_dscr": None,
            "recovery_rate": recovery / exposure if hit else None, "equity_irr": None,
            "default_cause": metrics["default_cause"], "recovery_rate_pv": None, "recovery_periods": None,
            "debt": float(sum(tr.amount for tr in deal.tranches)), "exposure": exposure,
            "loss": exposure - recovery, "recovery": recovery, "lender_loss": exposure - recovery,
            "metrics": metrics, "tranches": tranches, "equity_invested": 0.0, "equity_distributions": 0.0,
            "period_length": deal.timeline.period, "claims": [], "issuer_cause": issuer.cause or None}


def loss_driver(row: dict) -> str:
    """What drove the deal's default or loss, in a credit desk's words."""
    if row["kind"] == "instrument":
        return f"issuer default ({row['issuer']}: {row['issuer_cause']})" if row["default_period"] else "-"
    if row["default_period"] is None:
        return "-"
    kinds = {c["kind"] for c in row["claims"]}
    notes = " ".join(row["notes"])
    if "rejects" in kinds:
        head = "issuer default: lease rejection"
    elif "walks" in kinds:
        head = "strategic walk (damages owed)"
    elif "guarantee" in kinds or "cross-default" in notes:
        head = "guarantor default"
    else:
        head = {"maturity": "refinancing", "covenant": "covenant", "payment": "payment shortfall",
                "tenant": "tenant event", "borrowing_base": "borrowing base",
                "cross_default": "cross-default"}.get(row["default_cause"], str(row["default_cause"]))
    if "refinancing market closed" in notes and head != "refinancing":
        head += "; refinancing market shut"
    return head


def _lenders_by_scope(rows: list[dict], by_name: dict) -> dict:
    """{scope: the lenders' commitment, EAD, loss and recovery summed over that scope's
    deals}: the lender table's subtotals (each equals the deal table's, the shares of a
    tranche summing to one)."""
    keys = ("commitment", "exposure", "loss", "recovery")
    out = {}
    for s in SCOPES:
        subset = [r for r in rows if r["scope"] == s]
        if subset:
            lenders, _ = holders(subset, by_name)
            out[s] = {k: sum(acc[k] for acc in lenders.values()) for k in keys}
    return out


def holders(rows: list[dict], by_name: dict) -> tuple[dict, dict]:
    """Per lender (its shares of its tranches', under its canonical name) and per
    sponsor (its share of equity)."""
    from ..lenders import canonical

    lenders, sponsors = {}, {}
    for row in rows:
        deal = by_name[row["deal"]]
        for tr, t in zip(deal.tranches, row["tranches"]):
            shares = tr.lenders or {f"{deal.name}/{tr.name} lenders": 1.0}
            for name, share in shares.items():
                acc = lenders.setdefault(canonical(name), {"commitment": 0.0, "exposure": 0.0, "loss": 0.0, "recovery": 0.0})
                for key in acc:
                    acc[key] += share * t[key]
        if row["kind"] == "instrument":
            continue
        invested, distributed = row["equity_invested"], row["equity_distributions"]
        for name, share in (deal.equity.sponsors or {f"{deal.name} sponsors": 1.0}).items():
            acc = sponsors.setdefault(name, {"exposure": 0.0, "loss": 0.0, "recovery": 0.0})
            acc["exposure"] += share * invested
            acc["recovery"] += share * distributed
            acc["loss"] += share * max(0.0, invested - distributed)
    return lenders, sponsors


def _f(value, kind="amount"):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if kind == "ratio":
        return f"{value:.2f}x"
    if kind == "pct":
        return ">999%" if value > 9.99 else f"{value * 100:.1f}%"
    return f"{value:,.0f}"


def _default_cell(row) -> str:
    """'12 (2028-01-15)': the deal's own period (quarters or half-years) and its date."""
    d = row["default_period"]
    if d is None:
        return "-"
    date = (row.get("metrics") or {}).get("default_date")
    return f"{d} ({date})" if date else str(d)


def render(data: dict) -> str:
    from ..output.summary import aligned, equity_irr_short

    units = data["units"]
    lines = [f"portfolio under '{data['preset']}' (amounts in {units}; default: the deal's own period "
             f"and the date it ends)", ""]
    rows = [[r["deal"], r.get("period_length", ""), _default_cell(r), _f(r["min_dscr"], "ratio"),
             _f(r["recovery_rate"], "pct"), equity_irr_short(r.get("metrics") or {"equity_irr": r["equity_irr"]}),
             _f(r["debt"]), _f(r["exposure"]), _f(r["loss"])] for r in data["deals"]]
    t = data["totals"]
    for scope, sub in t.get("by_scope", {}).items():
        rows.append([f"  subtotal: {SCOPE_LABELS[scope]}", "", "", "", "", "", _f(sub["debt"]), _f(sub["exposure"]),
                     _f(sub["loss"])])
    rows.append(["total", "", "", "", "", "", _f(t["debt"]), _f(t["exposure"]), _f(t["loss"])])
    lines.append(aligned(["deal", "periods", "default period (ending)", "min DSCR", "recovery", "equity IRR",
                          "debt", "EAD", "loss"], rows, left=3))
    scope = t.get("headline_scope_debt", t["debt"])
    lines.append(f"debt in the portfolio {t['debt'] / 1000:,.1f}bn; of the deals the ~{data['headline_debt'] / 1000:,.0f}bn "
                 f"headline counts, {scope / 1000:,.1f}bn ({scope / data['headline_debt'] * 100:.0f}%); defaulted exposure "
                 f"{t['exposure'] / 1000:,.1f}bn, loss {t['loss'] / 1000:,.1f}bn, recovered {t['recovery'] / 1000:,.1f}bn")
    for title, table, cols in (("lender", data["lenders"], ("commitment", "exposure", "loss", "recovery")),
                               ("sponsor", data["sponsors"], ("exposure", "loss", "recovery"))):
        heads = [title] + [("EAD" if c == "exposure" and title == "lender" else c) for c in cols]
        body = [[name] + [_f(acc[c]) for c in cols]
                for name, acc in sorted(table.items(), key=lambda kv: -kv[1]["loss"])]
        if title == "lender":
            body += [[f"  subtotal: {SCOPE_LABELS[s]}"] + [_f(sub[c]) for c in cols]
                     for s, sub in t.get("lenders_by_scope", {}).items()]
        lines += ["", aligned(heads, body)]
    drivers = [f"  {r['deal']}: {r['driver']}" for r in data["deals"] if r.get("default_period") is not None]
    if drivers:
        lines += ["", "what drove each default:"] + drivers
    notes = [f"  {r['deal']}: {n}" for r in data["deals"] for n in r["notes"]]
    if notes:
        lines += ["", "chain:"] + notes
    return "\n".join(lines)


def cmd_portfolio(args) -> int:
    from pathlib import Path

    from ..errors import DealError
    from ..progress import Stages

    if args.xlsx and Path(args.xlsx).suffix.lower() != ".xlsx":
        print(f"error: --xlsx {args.xlsx}: a workbook's name must end in .xlsx (for CSV use --csv)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.simulate is not None:
        from .simulate import cmd_simulate
        return cmd_simulate(args)
    try:
        with Stages("portfolio", 1, show=False if args.quiet else None) as stage:
            stage("running the chain and every deal")
            data = run_portfolio(args.scenario, args.entities)
    except DealError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    for w in data["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    if args.csv:
        import pandas as pd
        frame = pd.DataFrame([{k: r[k] for k in ("deal", "default_period", "min_dscr", "recovery_rate",
                                                 "equity_irr", "debt", "exposure", "loss", "recovery",
                                                 "scope", "driver")}
                              for r in data["deals"]])
        write_text_atomic(args.csv, frame.to_csv(index=False, float_format="%.10g"))
    if args.xlsx:
        write_portfolio_workbook(data, args.xlsx)
    if args.json:
        out = {k: v for k, v in data.items() if k != "deals"}
        out["deals"] = [{k: v for k, v in r.items() if k not in ("scenario", "metrics", "result")}
                        for r in data["deals"]]
        print(json.dumps(out, indent=2, default=lambda v: None))
    else:
        print(render(data))
    return 0


def write_portfolio_workbook(data: dict, path) -> None:
    """Deals, Lenders and Sponsors sheets (USD millions) and an About sheet."""
    import pandas as pd

    from ..output.tables import write_frames_workbook

    deals = pd.DataFrame([{k: r.get(k) for k in ("deal", "default_period", "min_dscr", "recovery_rate",
                                                 "equity_irr", "debt", "exposure", "loss", "recovery",
                                                 "scope", "driver")}
                          for r in data["deals"]])
    lenders = pd.DataFrame(_rows(data["lenders"], "lender"))
    sponsors = pd.DataFrame(_rows(data["sponsors"], "sponsor"))
    totals = data["totals"]
    notes = [f"Preset: {data['preset']}. Amounts in {data['units']}.",
             f"Debt {totals['debt']:,.0f}; defaulted exposure {totals['exposure']:,.0f}; "
             f"loss {totals['loss']:,.0f}; recovered {totals['recovery']:,.0f}.",
             f"Headline debt compared: {data['headline_debt']:,.0f}."] + [f"warning: {w}" for w in data["warnings"]]
    write_frames_workbook({"Deals": deals, "Lenders": lenders, "Sponsors": sponsors}, path,
                          f"waterfall portfolio under '{data['preset']}'", notes)


def _rows(table, key: str) -> list[dict]:
    """Lender/sponsor tables as rows whatever their JSON shape (dict of dicts or list)."""
    if isinstance(table, dict):
        return [{key: name, **values} for name, values in table.items()]
    return list(table)

