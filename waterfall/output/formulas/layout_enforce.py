"""The Cash flows rows of the deal's state (state.py) and of acceleration, the workout
and the recoveries (enforce.py), in the order enforce.py computes them."""
from __future__ import annotations

from ...program import Program
from ...workout import CAUSES
from ..labels import GLOBAL_LABELS
from .best_sale import best_sale_rows
from .grid import Grid
from .hedges import close_rows, termination_rows
from .state import claim_ranks, first_rank


def cause_legend() -> str:
    """'1 payment, 2 covenant, ...': the cause codes of an event of default."""
    return ", ".join(f"{i} {name.replace('_', ' ')}" for i, name in enumerate(CAUSES) if name)


def state_rows(grid: Grid) -> None:
    grid.section("Deal state")
    grid.add("L:workout", GLOBAL_LABELS["workout"], "flag")
    grid.add("ended", "Ended (1 = yes: the assets were sold)", "flag", level=1)
    grid.add("normal", "Normal period (1 = yes: the priority of payments runs)", "flag", level=1)
    grid.add("cancelled", "Commitments cancelled (1 = yes: the lenders accelerated in an earlier period; "
                          "no more draws, the sponsors meet any shortfall)", "flag", level=1)


def _event_rows(grid: Grid, program: Program, names_safe=lambda s: s) -> None:
    grid.section("Event of default and acceleration")
    grid.add("L:event_of_default", GLOBAL_LABELS["event_of_default"], "flag")
    grid.add("cause_now", f"Cause of an event of default this period ({cause_legend()}; 0 none)", "int", level=1)
    grid.add("recovering", "Lenders enforcing (1 = yes: accelerating now, or in workout)", "flag")
    grid.add("accel_at", "Acceleration period (-1: none)", "int", level=1)
    grid.add("cause_at", "Cause of the acceleration", "int", level=1)
    if program.sale_rule:
        best_sale_rows(grid, program)
        grid.add("sale_at", "Sale period: best execution, the acceleration + the best offset above (-1: none)",
                 "int", level=1)
    else:
        grid.add("sale_at", "Sale period: acceleration + time to sale, at most the last period (-1: none)",
                 "int", level=1)
    grid.add("sale_now", "Sale this period (1 = yes)", "flag")
    grid.add("value_at_accel", "Sale value at the acceleration period (before COD the sale is at it: "
                               "construction stops)", "amount", level=1)
    if program.rvg_cap > 0:
        grid.add("rvg_factor_at", "Guarantee: share paid, as at the acceleration (scenario)", "factor", level=1)
        grid.add("rvg_live_at", "Guarantee: in force at the acceleration (1 = yes)", "flag", level=1)
    grid.add("L:workout_costs", GLOBAL_LABELS["workout_costs"], "amount", total=True)
    grid.add("advance", "Protective advance: costs the lenders fund (unpaid costs, a workout shortfall)",
             "amount", total=True)
    members = first_rank(program)
    if len(members) > 1:
        grid.add("advance_base", "Rank-1 claims the advance is shared by", "amount", level=1)
    termination_rows(grid, program, names_safe)


def _tranche_claim_rows(grid: Grid, program: Program, names_safe) -> None:
    advanced = first_rank(program)
    for k, name in enumerate(program.names["tranches"]):
        name = names_safe(name)
        grid.add(f"t{k}.wk_interest", f"{name}: default interest (balance + arrears) x (rate + default margin)",
                 "amount", total=True, level=1)
        grid.add(f"t{k}.arrears_in", f"{name}: interest arrears before recoveries", "amount", level=1)
        grid.add(f"t{k}.principal_in", f"{name}: principal claim before recoveries", "amount", level=1)
        if k in advanced:
            grid.add(f"t{k}.advance", f"{name}: protective advance (its share)", "amount", total=True, level=1)
            grid.add(f"t{k}.principal_claim", f"{name}: principal claim with the advance", "amount", level=1)


def _recovery_rows(grid: Grid, program: Program, names_safe) -> None:
    grid.section("Recoveries (sale, guarantee, allocation by rank)")
    grid.add("L:seizure_gross", GLOBAL_LABELS["seizure_gross"], "amount", total=True)
    grid.add("L:seizure_net", GLOBAL_LABELS["seizure_net"], "amount", total=True)
    grid.add("rec_cash", "Cash the lenders take: cash and reserves at acceleration, net cash in a workout",
             "amount", total=True, level=1)
    grid.add("L:guarantee_paid", GLOBAL_LABELS["guarantee_paid"], "amount", total=True)
    grid.add("pool", "Recovery pool (cash taken, net sale proceeds, guarantee)", "amount", total=True)
    tr, hg = program.names["tranches"], program.names.get("hedges", [])
    for rank, members, hedges in claim_ranks(program):
        if len(members) + len(hedges) == 1:
            if hedges:
                grid.add(f"h{hedges[0]}.pool_after", f"Rank {rank} (hedge {names_safe(hg[hedges[0]])}): pool "
                         "left after it", "amount", level=1)
                continue
            grid.add(f"t{members[0]}.pool_after", f"Rank {rank} ({names_safe(tr[members[0]])}): pool left after "
                     "it (interest, then principal)", "amount", level=1)
            continue
        who = ", ".join([names_safe(tr[k]) for k in members] + [f"hedge {names_safe(hg[h])}" for h in hedges])
        grid.add(f"r{rank}.owed", f"Rank {rank} ({who}): claims, shared pro rata", "amount", level=1)
        grid.add(f"r{rank}.take", f"Rank {rank}: applied (the pool, up to the claims)", "amount", level=1)
        for k in members:
            grid.add(f"t{k}.rec_share", f"Rank {rank}: {names_safe(tr[k])}'s share", "amount", level=1)
        grid.add(f"r{rank}.pool_after", f"Rank {rank}: pool left after it", "amount", level=1)
    close_rows(grid, program, names_safe)
    grid.add("pool_left", "Pool left after every claim", "amount", level=1)
    grid.add("repaid", "Every claim repaid (1 = yes)", "flag", level=1)
    grid.add("final", "Final recovery (1 = yes: the sale, or every claim repaid; the workout ends)", "flag")
    grid.add("end_at", "Period of the final recovery (-1: none)", "int", level=1)
    grid.add("surplus", "Surplus to equity at the final recovery", "amount", total=True)


def _lender_rows(grid: Grid, program: Program, names_safe) -> None:
    grid.section("Lenders since the acceleration (recovery metrics)")
    for k, name in enumerate(program.names["tranches"]):
        name = names_safe(name)
        grid.add(f"t{k}.claim_at", f"{name}: claim at the acceleration", "amount", level=1)
        grid.add(f"t{k}.received", f"{name}: received since (less advances)", "amount", level=1)
        grid.add(f"t{k}.disc", f"{name}: discount factor from the acceleration (contract rate)", "factor",
                 level=1)
        grid.add(f"t{k}.pv", f"{name}: received since, discounted to the acceleration", "amount", level=1)


def enforcement_rows(grid: Grid, program: Program, names_safe) -> None:
    _event_rows(grid, program, names_safe)
    _tranche_claim_rows(grid, program, names_safe)
    _recovery_rows(grid, program, names_safe)
    _lender_rows(grid, program, names_safe)
