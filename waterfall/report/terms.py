"""The deal terms a committee reads first, each with the source and confidence the deal
file gives it (`provenance`): tranches, leases, covenants and enforcement."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Term:
    """A term: `value` is a number in `fmt` (None: text only, in `text`); `source` the
    deal file's provenance entry for it (None: the file gives none)."""

    key: str
    label: str
    value: float | None
    fmt: str
    text: str = ""
    source: object = None


def _src(part, name):
    return part.provenance.get(name) if hasattr(part, "provenance") else None


def _tranche_terms(deal, amounts) -> list[Term]:
    out = []
    for k, tr in enumerate(deal.tranches):
        pre = f"term.tranche.{tr.name}"
        lenders = ", ".join(tr.lenders) or "-"
        out.append(Term(f"{pre}.amount", f"{tr.name}: amount", float(amounts[k]), "amount",
                        f"lenders: {lenders}", _src(tr, "amount") or _src(tr, "sizing")))
        if tr.rate.kind == "fixed":
            out.append(Term(f"{pre}.rate", f"{tr.name}: fixed rate", tr.rate.annual, "rate", "", _src(tr, "rate")))
        else:
            out.append(Term(f"{pre}.spread", f"{tr.name}: spread over the base rate", tr.rate.spread, "rate",
                            "floating", _src(tr, "rate")))
        maturity = tr.maturity_period or deal.timeline.n_periods
        out.append(Term(f"{pre}.maturity_period", f"{tr.name}: maturity (period)", float(maturity), "int",
                        f"{tr.amortisation.kind.replace('_', ' ')}; rank {tr.rank or '-'}",
                        _src(tr, "maturity_period") or _src(tr, "amortisation")))
    return out


def _lease_terms(deal) -> list[Term]:
    out = []
    for i, lease in enumerate(deal.leases):
        pre = f"term.lease.{i}"
        out.append(Term(f"{pre}.annual_rent", f"Lease {i + 1} ({lease.tenant}): rent a year", lease.annual_rent,
                        "amount", f"escalating {lease.escalation:.2%} a year", _src(lease, "annual_rent")))
        out.append(Term(f"{pre}.term_months", f"Lease {i + 1}: term (months)", float(lease.term_months), "int",
                        "", _src(lease, "term_months")))
    return out


def _credit_terms(deal) -> list[Term]:
    cov, enf = deal.covenants, deal.enforcement
    out = []
    basis = {"point": "", "trailing_12m": "tested on the trailing 12 months (historic)",
             "forward_12m": "tested on the next 12 months (projected)"}
    if cov.lock_up_dscr is not None:
        out.append(Term("term.covenants.lock_up_dscr", "Lock-up DSCR", cov.lock_up_dscr, "ratio",
                        basis[cov.lock_up_basis], _src(cov, "lock_up_dscr")))
    if cov.default_dscr is not None:
        out.append(Term("term.covenants.default_dscr", "Default DSCR", cov.default_dscr, "ratio",
                        f"{cov.cure_periods} cure period(s); breach: {cov.dscr_breach.replace('_', ' ')}"
                        + (f"; {basis[cov.default_basis]}" if cov.default_basis != "point" else ""),
                        _src(cov, "default_dscr")))
    if cov.hedge_ratio is not None:
        hr = cov.hedge_ratio
        out.append(Term("term.covenants.hedge_ratio", "Minimum hedge ratio", hr.minimum, "pct",
                        f"from period {hr.from_period}; breach: {hr.breach.replace('_', ' ')}",
                        _src(hr, "minimum")))
    out.append(Term("term.enforcement.fire_sale_discount", "Fire-sale discount", enf.fire_sale_discount, "pct",
                    f"valuation: {enf.valuation.method.replace('_', ' ')}", _src(enf, "fire_sale_discount")))
    out.append(Term("term.enforcement.months_to_sale", "Workout to sale (months)", float(enf.months_to_sale),
                    "int", "", _src(enf, "months_to_sale")))
    return out


def key_terms(deal, amounts) -> list[Term]:
    """The key terms of `deal`; `amounts` the tranche amounts the engine ran (a sized
    tranche states none in the file)."""
    return _tranche_terms(deal, amounts) + _lease_terms(deal) + _credit_terms(deal)


def count_sources(deal) -> tuple[int, int]:
    """(provenance entries in the deal file, of which labelled assumptions)."""
    from pydantic import BaseModel

    found = []

    def walk(obj):
        if isinstance(obj, BaseModel):
            found.extend(getattr(obj, "provenance", {}).values())
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item)
    walk(deal)
    return len(found), sum(1 for s in found if s.confidence == "assumption")
