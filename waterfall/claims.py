"""Claims against a defaulted issuer and how its estate pays them by class.

Two rules a restructuring analyst applies to every corporate default:

1. A landlord's claim for a rejected lease is capped (US Bankruptcy Code, 11 U.S.C.
   502(b)(6)): the damages allowed are at most the rent reserved for the greater of one
   year or 15% of the remaining rent, that 15% not to exceed three years' rent, plus
   rent unpaid at the petition date. (Courts split on whether the 15% is of the
   remaining *time* or *rent*; this engine reads it as rent, the reading the brief for
   this model gives.) The landlord's actual damages (rent lost less what re-letting
   recovers) are the claim when they are below the cap.
2. The estate's distributable value pays by class, absolute priority: a secured claim
   first from its own collateral (its shortfall, the deficiency, joins the senior
   unsecured class); then every senior unsecured claim pro rata (bonds, loans, the
   revolver, lease-rejection and guarantee claims alike: pari passu); then subordinated
   claims; equity gets what is left.

Amounts in whatever unit the caller uses (USD billions for issuers); rents are given
as one amount per month from the petition date on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = ("secured", "senior_unsecured", "subordinated")


def lease_rejection_cap(monthly_rent, unpaid: float = 0.0) -> float:
    """The most a landlord may claim for a rejected lease: rent reserved for
    max(12 months, min(15% of the remaining rent, 36 months' rent)), plus `unpaid` rent
    due before the petition. `monthly_rent`: the rent of each remaining month, first
    month first."""
    rent = np.asarray(monthly_rent, dtype=float)
    one_year, three_years = rent[:12].sum(), rent[:36].sum()
    fifteen = 0.15 * rent.sum()
    return float(max(one_year, min(fifteen, three_years)) + unpaid)


def lease_rejection_claim(monthly_rent, mitigation: float = 0.0, unpaid: float = 0.0) -> float:
    """The allowed claim: the landlord's damages (remaining rent less `mitigation`, what
    re-letting the space earns over the same months) capped by lease_rejection_cap;
    `unpaid` rent is allowed in full on top."""
    rent = np.asarray(monthly_rent, dtype=float)
    damages = max(0.0, float(rent.sum()) - mitigation)
    return min(damages, lease_rejection_cap(rent)) + unpaid


@dataclass
class Claim:
    """One claim on the estate: `amount` owed at default; `seniority` one of CLASSES;
    `collateral` the value of the assets securing it (secured claims only)."""

    name: str
    amount: float
    seniority: str
    collateral: float = 0.0


def distribute(value: float, claims: list[Claim]) -> dict[str, float]:
    """What each claim recovers (by name) from the estate's distributable `value`.

    Secured claims take min(claim, collateral) from the value first (collateral is part
    of the estate: the secured creditors are paid from it); deficiencies rank with the
    senior unsecured class; each class is paid pro rata by claim until the value runs
    out."""
    for c in claims:
        if c.seniority not in CLASSES:
            raise ValueError(f"claim {c.name!r}: seniority {c.seniority!r} is not one of {CLASSES}")
    left = max(0.0, float(value))
    paid = {c.name: 0.0 for c in claims}
    pools = {k: [] for k in CLASSES}
    secured = [c for c in claims if c.seniority == "secured"]
    wanted = sum(min(c.amount, c.collateral) for c in secured)
    scale = 1.0 if wanted <= left or wanted == 0 else left / wanted
    for c in secured:
        got = min(c.amount, c.collateral) * scale
        paid[c.name] += got
        pools["senior_unsecured"].append((c.name, c.amount - got))
    left -= wanted * scale
    for c in claims:
        if c.seniority != "secured":
            pools[c.seniority].append((c.name, c.amount))
    for k in ("senior_unsecured", "subordinated"):
        owed = sum(a for _, a in pools[k])
        if owed <= 0:
            continue
        share = min(1.0, left / owed)
        for name, a in pools[k]:
            paid[name] += a * share
        left -= owed * share
    return paid
