"""The waterfall checked as a program, from each kind's declaration: operand present and
known, fields it does not read left unset, at most one step per operand (`once`), the
kinds it must follow on the same operand (`after`), the last step (`last`), the steps
every tranche needs (`required`), then each kind's own checks. Every problem names the
step's position (waterfall[i]), the field, the rule and the value."""
from __future__ import annotations

from . import BY_NAME, KINDS
from .base import Problem

_OPERANDS = ("tranche", "account", "fee", "hedge")
_OPTIONAL_FIELDS = ("share", "share_locked")


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _operand(kind, i: int, step, known: dict) -> list[Problem]:
    problems = []
    where = f"waterfall[{i}]"
    wanted, optional = kind.wanted, kind.operand.endswith("?")
    for name in _OPERANDS:
        value = getattr(step, name, None)
        if name != wanted:
            if value is not None:
                problems.append((f"{where}.{name}", f"{_a(kind.name)} step takes no {name}"
                                 + (f" (it names {_a(wanted)})" if wanted else ""), value))
        elif value is None:
            if not optional:
                problems.append((f"{where}.{name}", f"{_a(kind.name)} step needs {_a(name)}", None))
        elif value not in known[name]:
            problems.append((f"{where}.{name}", f"unknown {name}", value))
    for name in _OPTIONAL_FIELDS:
        default = type(step).model_fields[name].default
        if name not in kind.fields and getattr(step, name) != default:
            problems.append((f"{where}.{name}", f"{_a(kind.name)} step takes no {name}", getattr(step, name)))
    return problems


def _order(kind, i: int, step, seen: dict, last: int) -> list[Problem]:
    """`once`, `after` and `last`; `seen` maps (kind, operand) to the first position."""
    problems = []
    where = f"waterfall[{i}]"
    operand = getattr(step, kind.wanted, None) if kind.wanted else None
    key = (kind.name, operand)
    if kind.once and key in seen:
        what = f" for {kind.wanted} '{operand}'" if operand is not None else ""
        problems.append((f"{where}.step", f"a second {kind.name} step{what} (the first is "
                         f"waterfall[{seen[key]}]): it would pay twice", kind.name))
    seen.setdefault(key, i)
    for before in kind.after:
        if operand is not None and (before, operand) not in seen:
            problems.append((f"{where}.step", f"{_a(kind.name)} step for '{operand}' must come after its "
                             f"{before} step", kind.name))
    if kind.last and i != last:
        problems.append((f"{where}.step", f"{kind.name} must be the last step (it is step {i} of 0..{last})",
                         kind.name))
    return problems


def check_waterfall(deal) -> list[Problem]:
    """Every problem of the deal's priority of payments, in the order of the steps."""
    problems: list[Problem] = []
    known = {"tranche": {t.name for t in deal.tranches}, "account": {a.name for a in deal.accounts},
             "fee": {f.name for f in deal.fees}, "hedge": {h.name for h in deal.hedges}}
    seen: dict = {}
    last = len(deal.waterfall) - 1
    for i, step in enumerate(deal.waterfall):
        kind = BY_NAME[step.step]  # the schema admits only registered names
        problems += _operand(kind, i, step, known)
        problems += _order(kind, i, step, seen, last)
        for check in kind.checks:
            problems += check(deal, i, step)
    parts = {"tranche": deal.tranches, "hedge": deal.hedges}
    for kind in KINDS:
        if kind.required:
            for part in parts[kind.wanted]:
                if (kind.name, part.name) not in seen:
                    problems.append(("waterfall", f"{kind.wanted} '{part.name}' has no {kind.name} step", part.name))
    for kind in KINDS:
        if kind.last and deal.waterfall and not any(s.step == kind.name for s in deal.waterfall):
            problems.append((f"waterfall[{last}].step", f"the last step must be {kind.name}",
                             deal.waterfall[-1].step))
    return problems
