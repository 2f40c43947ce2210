"""Hypothesis strategies for random but valid deals and scenarios (as plain data that
goes through the same loader as deal files)."""
from __future__ import annotations

import datetime as dt

from hypothesis import assume
from hypothesis import strategies as st

amounts = st.floats(min_value=1.0, max_value=500.0, allow_nan=False, allow_infinity=False)
rates = st.floats(min_value=0.0, max_value=0.15, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _valuation(draw, cost: float) -> dict:
    if draw(st.booleans()):
        return {"method": "replacement_cost"}
    return {"method": "appraisal", "discount_rate": draw(st.floats(0.03, 0.12)),
            "exit_cap_rate": draw(st.floats(0.04, 0.12)), "market_rent": cost * draw(st.floats(0.02, 0.15)),
            "market_rent_growth": draw(st.floats(0.0, 0.03)), "relet_months": draw(st.integers(0, 24)),
            "reletting_cost_months": draw(st.floats(0.0, 12.0)), "replacement_floor": draw(st.floats(0.0, 1.0))}


def _hedges(draw, tranches, n: int):
    """Swaps and caps on floating tranches (waterfall/hedges.py), each with its step."""
    hedges = []
    for t in tranches:
        if t["rate"]["kind"] != "floating" or not draw(st.booleans()):
            continue
        kind = draw(st.sampled_from(["swap", "cap"]))
        start = draw(st.integers(1, n))
        hedge = {"name": f"{t['name']}_{kind}", "kind": kind, "tranche": t["name"],
                 "start_period": start, "end_period": draw(st.sampled_from([None, draw(st.integers(start, n))])),
                 "day_count": draw(st.sampled_from([None, "ACT/360", "30/360", "ACT/365F", "ACT/ACT ISDA", "30E/360"]))}
        if draw(st.booleans()):
            hedge["notional_share"] = draw(st.floats(0.0, 1.0))
        else:
            hedge["notional"] = [[draw(st.integers(0, n)), draw(st.floats(0.0, 500.0))]
                                 for _ in range(draw(st.integers(1, 3)))]
        if kind == "swap":
            hedge["fixed_rate"] = draw(rates)
        else:
            hedge["strike"] = draw(st.floats(0.0, 0.08))
            hedge["premium"] = draw(st.sampled_from([0.0, 2.0]))
        if draw(st.booleans()):
            hedge["rank"] = draw(st.integers(1, 3))
        hedges.append({k: v for k, v in hedge.items() if v is not None})
    return hedges


def _tax(draw) -> dict:
    """A random [tax] section: rate, loss treatment, depreciation rules, property tax."""
    methods = st.sampled_from(["straight_line", "macrs_5", "macrs_7", "macrs_15", "macrs_39"])
    depreciation = {}
    for name in draw(st.sets(st.sampled_from(["shell", "it", "land"]))):
        method = draw(methods)
        rule = {"method": method, "bonus": draw(st.sampled_from([0.0, 0.4, 1.0]))}
        if method == "straight_line":
            rule["years"] = draw(st.integers(1, 40))
        depreciation[name] = rule
    tax = {"rate": draw(st.floats(0.0, 0.4)), "losses": draw(st.sampled_from(["carry_forward", "offset"])),
           "nol_limit": draw(st.sampled_from([1.0, 0.8])), "interest_deductible": draw(st.booleans()),
           "depreciation": depreciation}
    if draw(st.booleans()):
        tax["property_tax"] = {"rate": draw(st.floats(0.0, 0.03)), "assessed_share": draw(st.floats(0.0, 1.0)),
                               "annual_decline": draw(st.floats(0.0, 0.1))}
    return tax


def _stubs(draw, period: str, n: int) -> dict:
    """A payment day and first / last stub periods (docs/conventions.md), or none. The
    final date is chosen once the rest of the timeline fixes the regular dates."""
    months = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}[period]
    out = {}
    if draw(st.booleans()):
        out["payment_day"] = draw(st.sampled_from([None, 1, 15, 28, 30, 31]))
    if draw(st.booleans()):
        out["first_stub_days"] = draw(st.integers(1, 56 * months))
    if draw(st.booleans()) and not (n == 1 and "first_stub_days" in out):
        out["final_stub_days"] = draw(st.integers(1, 56 * months))
    return out


def resolve_stubs(deal: dict) -> dict:
    """Turn the drawn stub lengths into first_payment_date / final_date (in place)."""
    from waterfall.dates import on_day
    from waterfall.model.deal import Timeline
    from waterfall.payment_dates import check_timeline, regular_dates

    tl = deal["timeline"]
    first, final = tl.pop("first_stub_days", None), tl.pop("final_stub_days", None)
    if first is not None:
        end = tl["financial_close"] + dt.timedelta(days=first)
        if tl.get("payment_day"):   # a first payment date falls on the payment day
            end = on_day(end.year, end.month, tl["payment_day"])
        tl["first_payment_date"] = end
    if final is not None:
        start = regular_dates(Timeline.model_validate(tl))[-2]
        tl["final_date"] = start + dt.timedelta(days=final)
    for _ in range(2):   # a drawn stub out of bounds: a regular period instead
        for field, _message, _value in check_timeline(Timeline.model_validate(tl)):
            tl.pop(field.split(".")[1], None)
    return deal


@st.composite
def deals(draw, max_operating: int = 40, hedges: bool = True, sculpted: bool = True):
    """A random deal as plain data; `hedges`: whether it may have interest-rate hedges;
    `sculpted`: whether a refinancing may be sculpted."""
    period = draw(st.sampled_from(["month", "quarter", "half-year", "year"]))
    construction = draw(st.integers(0, 4))
    operating = draw(st.integers(4, max_operating))
    n = construction + operating
    funding = "at_close" if construction == 0 else draw(st.sampled_from(["pro_rata", "equity_first", "at_close"]))
    spend = "at_close" if funding == "at_close" else "over_construction"
    cost = draw(st.floats(min_value=200.0, max_value=2000.0))
    it_share = draw(st.floats(min_value=0.0, max_value=0.6))
    asset = {
        "name": "campus", "spend": spend,
        "land": {"cost": cost * 0.05, "curve": {"kind": "constant", "level": 1.0}},
        "shell": {"cost": cost * (0.95 - it_share),
                  "curve": {"kind": "straight_line", "life_months": draw(st.integers(60, 480)),
                            "salvage": draw(st.floats(0.0, 0.3))}},
    }
    if it_share > 0:
        asset["it"] = {"cost": cost * it_share,
                       "curve": {"kind": "points", "points": [[0, 1.0], [12, 0.7], [24, 0.5], [60, 0.1]]}}
    n_tranches = draw(st.integers(1, 3))
    gearing = draw(st.floats(min_value=0.2, max_value=0.9))
    tranches, names = [], []
    for k in range(n_tranches):
        name = ["senior", "mezz", "junior"][k]
        names.append(name)
        floating = draw(st.booleans())
        steps = [[draw(st.integers(0, n)), draw(rates)] for _ in range(draw(st.integers(0, 2)))]
        rate = ({"kind": "floating", "spread": draw(rates), "floor": draw(st.sampled_from([0.0, None, 0.01])),
                 "spread_steps": steps}
                if floating else {"kind": "fixed", "annual": draw(rates), "steps": steps})
        kind = draw(st.sampled_from(["straight_line", "level_payment", "sculpted", "bullet", "custom"]))
        am = {"kind": kind}
        if kind in ("straight_line", "level_payment"):
            am["periods"] = draw(st.integers(1, operating + 10))
        if kind == "sculpted":
            am["target_dscr"] = draw(st.floats(1.0, 2.5))
        if kind == "custom":
            am["shares"] = draw(st.lists(st.floats(0.0, 0.3), min_size=1, max_size=8))
        maturity = draw(st.integers(construction + 1, n))
        tranche = {
            "name": name, "rate": rate, "amortisation": am,
            "day_count": draw(st.sampled_from(["ACT/360", "30/360", "ACT/365F", "ACT/ACT ISDA", "30E/360"])),
            "interest_only_periods": draw(st.integers(0, 3)),
            "maturity_period": maturity,
            "extension_periods": draw(st.integers(0, n - maturity)),
            "capitalise_interest": draw(st.sampled_from(["never", "construction", "always"]) if k > 0
                                        else st.sampled_from(["never", "construction"])),
            "default_on_shortfall": True if k == 0 else draw(st.booleans()),
            "commitment_includes_idc": draw(st.booleans()),
            "notional_maturity_period": draw(st.sampled_from([None, draw(st.integers(1, n))])),
        }
        if k == 0 and draw(st.booleans()) and funding != "equity_first":
            # its share of the gearing, as the others: sized and given debt stay within the cost
            tranche["sizing"] = {"target_dscr": draw(st.floats(1.05, 2.0)),
                                 "max_gearing": min(gearing, 0.9) / n_tranches}
            if kind == "sculpted" and draw(st.booleans()):   # the interest CFADS / target cannot pay capitalised
                tranche["sizing"]["when_short"] = "capitalise"
        else:
            tranche["amount"] = cost * gearing / n_tranches
            if kind == "level_payment" and draw(st.booleans()):
                # a stated payment above any first period's interest (at most ~0.31 a period
                # on up to 1.75x the amount after four years of capitalised interest)
                am["payment"] = tranche["amount"] * draw(st.floats(0.6, 1.0))
                if draw(st.booleans()):
                    del am["periods"]
        if draw(st.booleans()):
            am["round_to"] = draw(st.sampled_from(["cent", 0.01, 1e-6]))
        if draw(st.booleans()):
            tranche["refinancing"] = {"spread": draw(rates), "amort_periods": draw(st.integers(1, 40)),
                                      # limits drawn wide enough to bind: a new loan below the balloon,
                                      # its shortfall paid, cured or defaulted
                                      "min_dscr": draw(st.sampled_from([0.0, draw(st.floats(0.5, 4.0))])),
                                      "max_ltv": draw(st.sampled_from([None, draw(st.floats(0.05, 1.0))])),
                                      "min_debt_yield": draw(st.sampled_from([None, draw(st.floats(0.04, 1.0))]))}
            refi = tranche["refinancing"]
            if draw(st.booleans()):   # a fixed-rate new loan
                refi["rate_kind"], refi["fixed_rate"] = "fixed", refi.pop("spread")
            profiles = ["straight_line", "level_payment"] + (["sculpted"] if sculpted and refi["min_dscr"] > 0 else [])
            refi["amortisation"] = draw(st.sampled_from(profiles))
        if draw(st.booleans()):
            tests = {"min_dscr": draw(st.sampled_from([None, draw(st.floats(0.8, 2.0))])),
                     "max_ltv": draw(st.sampled_from([None, draw(st.floats(0.3, 1.0))])),
                     "min_debt_yield": draw(st.sampled_from([None, draw(st.floats(0.04, 0.2))]))}
            if all(v is None for v in tests.values()):
                tests["min_dscr"] = 1.2
            tranche["extension"] = {"options": draw(st.integers(1, 2)), "periods": draw(st.integers(1, 8)),
                                    "fee": draw(st.sampled_from([0.0, 0.0025])),
                                    "margin_step": draw(st.sampled_from([0.0, 0.005])),
                                    **{k: v for k, v in tests.items() if v is not None}}
        if it_share > 0 and draw(st.booleans()):
            tranche["borrowing_base"] = {"advance_rate": draw(st.floats(0.3, 1.0)), "components": ["it"]}
        tranches.append(tranche)
    leases = [{
        "tenant": "Tenant", "annual_rent": cost * draw(st.floats(0.06, 0.3)),
        "term_months": draw(st.integers(36, 600)),
        "escalation": draw(st.floats(-0.02, 0.05)),
        "escalation_every_months": draw(st.sampled_from([6, 12, 24])),
        "renewals": [{"term_months": 60, "rent_reset": draw(st.floats(0.7, 1.1)),
                      "exercised": draw(st.booleans())}],
    }]
    opex = [{"name": "opex", "annual_amount": cost * draw(st.floats(0.0, 0.03)),
             "escalation": draw(st.floats(0.0, 0.04))}]
    if draw(st.booleans()):   # escalation on its own dates, CPI-linked with a collar (waterfall/escalation.py)
        opex[0]["escalation"] = 0.0
        opex[0]["indexation"] = {"kind": "cpi", "every_months": draw(st.sampled_from([6, 12])),
                                 "floor": 0.0, "cap": draw(st.floats(0.0, 0.05))}
    accounts, steps = [], []
    fees = []
    if draw(st.booleans()):
        fees.append({"name": "agency", "annual_amount": draw(st.floats(0.0, 5.0))})
        steps.append({"step": "fee", "fee": "agency"})
    hedge_list = _hedges(draw, tranches, n) if hedges else []
    steps += [{"step": "hedge", "hedge": h["name"]} for h in hedge_list]
    order = draw(st.sampled_from(["sequential", "interest_first"]))
    if order == "interest_first":
        steps += [{"step": "interest", "tranche": t} for t in names]
        steps += [{"step": "principal", "tranche": t} for t in names]
    else:
        for t in names:
            steps += [{"step": "interest", "tranche": t}, {"step": "principal", "tranche": t}]
    for t in tranches:
        if "borrowing_base" in t:
            steps.append({"step": "borrowing_base", "tranche": t["name"]})
    if draw(st.booleans()):
        accounts.append({"name": "dsra", "kind": "dsra", "target_periods": draw(st.integers(1, 4)),
                         "tranches": draw(st.lists(st.sampled_from(names), min_size=1, unique=True)),
                         "interest_rate": draw(st.sampled_from([0.0, 0.0, 0.035])),
                         "funded_at_close": draw(st.booleans())})
        if draw(st.booleans()):   # a target in months, whole periods or not
            accounts[-1].pop("target_periods")
            horizon = n * {"month": 1, "quarter": 3, "half-year": 6, "year": 12}[period]
            accounts[-1]["target_months"] = min(draw(st.sampled_from([2, 4, 6, 9])), horizon)
        if draw(st.booleans()):   # backed by a letter of credit (stated or sized at close), with a fee
            lc = {"fee": draw(st.sampled_from([0.0, 0.015, 0.2]))}
            if draw(st.booleans()):
                lc["amount"] = draw(st.floats(0.0, 80.0))
            accounts[-1]["letter_of_credit"] = lc
            if lc["fee"] > 0.0:   # the LC fee ranks with the senior fees, before debt service
                fees.append({"name": "lc fee", "letter_of_credit": "dsra"})
                steps.insert(0, {"step": "fee", "fee": "lc fee"})
        steps.append({"step": "reserve", "account": "dsra"})
    if draw(st.booleans()):
        accounts.append({"name": "mra", "kind": "fixed", "target": draw(st.floats(0.0, 50.0)),
                         "interest_rate": draw(st.floats(0.0, 0.06)), "funded_at_close": draw(st.booleans())})
        if draw(st.booleans()):   # a maintenance reserve of months of the opex line
            del accounts[-1]["target"]
            accounts[-1].update(target_months=draw(st.sampled_from([3, 6, 12])), target_opex=["opex"])
        steps.append({"step": "reserve", "account": "mra"})
    if draw(st.booleans()):
        steps.append({"step": "sweep", "tranche": draw(st.sampled_from(names)),
                      "share": draw(st.floats(0.0, 0.5)), "share_locked": draw(st.floats(0.5, 1.0))})
    distribute = {"step": "distribute"}
    if draw(st.booleans()):
        accounts.append({"name": "lockup", "kind": "lockup"})
        distribute["account"] = "lockup"
    steps.append(distribute)
    covenants = {"lock_up_dscr": draw(st.sampled_from([None, 1.1, 1.2, 1.5])),
                 "default_dscr": draw(st.sampled_from([None, 0.9, 1.0, 1.05])),
                 "cure_periods": draw(st.integers(0, 2)),
                 "dscr_breach": draw(st.sampled_from(["lock_up", "accelerate"])),
                 "accelerate_after": draw(st.integers(0, 3)),
                 "tenant_event": draw(st.sampled_from(["none", "accelerate"])),
                 "cross_default": draw(st.sampled_from(["none", "accelerate"])),
                 "llcr_net_of_dsra": draw(st.booleans()),
                 # DSCR covenants on a point, historic (trailing) or projected (forward) 12-month basis
                 "lock_up_basis": draw(st.sampled_from(["point", "trailing_12m", "forward_12m"])),
                 "default_basis": draw(st.sampled_from(["point", "trailing_12m", "forward_12m"]))}
    if draw(st.booleans()):
        covenants["equity_cure"] = {"max_cures": draw(st.integers(0, 3)),
                                    "max_amount": draw(st.sampled_from([None, 5.0, 50.0])),
                                    "until_period": draw(st.sampled_from([None, max(1, n // 2)]))}
    if any(t["rate"]["kind"] == "floating" for t in tranches) and draw(st.booleans()):
        # a hedge-ratio covenant on the floating covenant debt
        first = draw(st.integers(0, n))
        covenants["hedge_ratio"] = {"minimum": draw(st.sampled_from([0.0, 0.5, 0.75, 1.0])),
                                    "from_period": first,
                                    "to_period": draw(st.sampled_from([None, draw(st.integers(first, n))])),
                                    "breach": draw(st.sampled_from(["lock_up", "accelerate"]))}
    for k, t in enumerate(tranches):
        if k and draw(st.booleans()):
            t["rank"] = draw(st.integers(1, k + 1))   # pari passu with an earlier tranche, or junior
    deal = {
        "deal": {"name": "random", "kind": "example"},
        "timeline": {"financial_close": dt.date(2026, 1, 31) + dt.timedelta(days=draw(st.integers(0, 400))),
                     "period": period, "construction_periods": construction,
                     "operating_periods": operating,
                     "calendar": draw(st.sampled_from(["none", "us-sofr", "target"])),
                     "roll": draw(st.sampled_from(["unadjusted", "following", "modified-following"])),
                     "accrue_on_adjusted_dates": draw(st.booleans()), **_stubs(draw, period, n)},
        "funding": funding, "assets": [asset], "leases": leases, "opex": opex,
        "base_rate": {"points": [[0, draw(rates)], [max(1, n // 2), draw(rates)]],
                      "interpolation": draw(st.sampled_from(["step", "linear"]))},
        "tranches": tranches, "accounts": accounts, "fees": fees, "waterfall": steps, "hedges": hedge_list,
        "covenants": covenants, "cpi": {"points": [[0, draw(st.floats(-0.01, 0.06))]]},
        "closing_costs": draw(st.sampled_from([0.0, 0.0, cost * 0.01])),
        "enforcement": {"fire_sale_discount": draw(st.floats(0.0, 0.8)),
                        "cost_share": draw(st.floats(0.0, 0.1)), "cost_fixed": draw(st.floats(0.0, 10.0)),
                        "months_to_sale": draw(st.integers(0, 24)),
                        "workout_costs": draw(st.sampled_from([0.0, 1.0, 20.0])),
                        "default_margin": draw(st.sampled_from([0.0, 0.02])),
                        "sale_rule": draw(st.sampled_from(["stated", "best_execution"])),
                        "valuation": _valuation(draw, cost)},
    }
    support = draw(st.sampled_from(["none", "capped", "unlimited"]))
    deal["sponsor_support"] = {"kind": support, **({"cap": cost * 0.05} if support == "capped" else {})}
    if draw(st.booleans()):
        deal["exit"] = {"value_share": draw(st.floats(0.0, 1.5)), "cost_share": draw(st.floats(0.0, 0.1))}
    if draw(st.booleans()):
        deal["tax"] = _tax(draw)
    if draw(st.booleans()):
        deal["residual_value_guarantee"] = {"guarantor": "Tenant", "cap": cost * draw(st.floats(0.0, 0.5)),
                                            "until_period": draw(st.integers(0, n))}
    deal = resolve_stubs(deal)
    if any("payment" in t["amortisation"] for t in tranches):
        # a stated payment must exceed its first period's interest (bad input otherwise); a
        # two-period first stub on capitalised interest can take the drawn 0.6-1.0 x amount
        # below it: such draws are not deals
        from waterfall.errors import DealError
        from waterfall.load import deal_from_data
        try:
            deal_from_data(deal, "<random>")   # checks the stated payments (checks.check_deal)
        except DealError as exc:
            assume("amortisation.payment" not in str(exc))
            raise
    return deal


@st.composite
def scenarios(draw, n_periods: int):
    kinds = draw(st.lists(st.sampled_from(["rent_multiplier", "tenant_default", "rate_shock", "rate_path",
                                           "opex_multiplier", "asset_value_multiplier",
                                           "refinancing_closed", "refinancing_spread", "guarantor_default",
                                           "obligor_default"]),
                          max_size=4))
    adjustments = []
    period = st.integers(1, n_periods)
    for kind in dict.fromkeys(kinds):
        if kind == "rent_multiplier":
            adjustments.append({"kind": kind, "from_period": draw(period), "multiplier": draw(st.floats(0.0, 1.2))})
        elif kind == "tenant_default":
            adjustments.append({"kind": kind, "period": draw(period), "downtime_periods": draw(st.integers(0, 12)),
                                "relet_haircut": draw(st.floats(0.0, 1.0))})
        elif kind == "rate_shock":
            adjustments.append({"kind": kind, "bp": draw(st.floats(-200, 400)), "from_period": draw(period)})
        elif kind == "rate_path":
            adjustments.append({"kind": kind, "points": [[0, draw(rates)], [draw(period), draw(rates)]]})
        elif kind == "opex_multiplier":
            adjustments.append({"kind": kind, "from_period": draw(period), "multiplier": draw(st.floats(0.5, 3.0))})
        elif kind == "asset_value_multiplier":
            adjustments.append({"kind": kind, "component": draw(st.sampled_from(["it", "shell", "all"])),
                                "from_period": draw(period), "multiplier": draw(st.floats(0.0, 1.0))})
        elif kind == "refinancing_closed":
            adjustments.append({"kind": kind, "from_period": draw(period)})
        elif kind == "refinancing_spread":
            adjustments.append({"kind": kind, "bp": draw(st.floats(-100, 500)), "from_period": draw(period)})
        elif kind == "obligor_default":
            adjustments.append({"kind": kind, "obligor": "Parent", "from_period": draw(period)})
        else:
            adjustments.append({"kind": kind, "from_period": draw(period), "paid_share": draw(st.floats(0.0, 1.0))})
    return {"name": "random", "adjustments": adjustments}
