"""The deal's state in each period, carried on the Cash flows sheet from the period
before: normal (the priority of payments runs), in workout (after an acceleration,
until the final recovery: reference._workout_period), or ended (after the sale: every
line is zero). An acceleration that recovers every claim before the sale ends the
workout early and the deal goes on as normal (with no debt).

Also the seniority in enforcement: tranches by rank (reference._advance and
workout.allocate)."""
from __future__ import annotations

from ...program import Program
from ..cells import IF, ZERO


def ranks(program: Program) -> list:
    """[(rank, [tranches])] in order of seniority (workout.allocate)."""
    rank = [int(r) for r in program.rank]
    return [(r, [k for k in range(program.n_tranches) if rank[k] == r]) for r in sorted(set(rank))]


def claim_ranks(program: Program) -> list:
    """[(rank, [tranches], [hedges])] in order of seniority: the recovery's claimants,
    tranches and the hedge banks' termination claims (workout.allocate)."""
    rank = [int(r) for r in program.rank]
    hedge_rank = [int(r) for r in program.hedge_rank]
    return [(r, [k for k in range(program.n_tranches) if rank[k] == r],
             [h for h in range(program.n_hedges) if hedge_rank[h] == r]) for r in sorted(set(rank + hedge_rank))]


def first_rank(program: Program) -> list:
    """The most senior tranches: protective advances go to them (reference._advance)."""
    return ranks(program)[0][1]


def open_state(c):
    """The period's state flags, from the period before: (in workout, ended, normal,
    commitments cancelled: the lenders accelerated in an earlier period)."""
    if c.t == 0:
        workout = c.put("L:workout", ZERO)
        ended = c.put("ended", ZERO)
        cancelled = c.put("cancelled", ZERO)
    else:
        # a workout follows an acceleration (or a workout period) that was not the final recovery
        workout = c.put("L:workout", IF(c.P("recovering"), IF(c.P("final"), 0, 1), 0))
        ended = c.put("ended", IF(c.P("ended"), 1, c.P("sale_now")))
        cancelled = c.put("cancelled", IF(c.P("accel_at") > -1, 1, 0))
    normal = c.put("normal", IF(ended, 0, IF(workout, 0, 1)))
    return workout, ended, normal, cancelled


def carried(c, key: str, now, cond, init):
    """A state row that takes `now` when `cond` holds, else keeps last period's value
    (`init` before the first period)."""
    return c.put(key, IF(cond, now, c.P(key, init)))
