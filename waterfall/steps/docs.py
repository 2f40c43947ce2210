"""docs/steps.md, generated from the registry (scripts/step_table.py writes it; a test
checks that the file in the repository is what the registry generates)."""
from __future__ import annotations

from . import KINDS

HEADER = """# Waterfall step kinds

Generated from the step registry (`waterfall/steps`) by `python scripts/step_table.py`;
do not edit by hand. A deal's `[[waterfall]]` lists these steps in priority order. Each
kind's cash rule is written once (its module's `cash`): evaluated on floats it is the
reference interpreter's step, on cell expressions it writes the live Excel formulas,
and the Cython kernel has its one hand-written twin. Amounts are in the deal's units
(USD millions unless the deal says otherwise).

| step | opcode | operand | other fields | placement | cash rule |
|---|---:|---|---|---|---|
"""


def _placement(kind) -> str:
    rules = []
    if kind.once:
        optional = kind.operand.endswith("?") or not kind.operand
        rules.append("once" if optional else f"once per {kind.wanted}")
    if kind.after:
        rules.append("after the same tranche's " + ", ".join(kind.after))
    if kind.last:
        rules.append("last")
    if kind.required:
        rules.append("required for every tranche")
    return "; ".join(rules) or "-"


def _operand(kind) -> str:
    if not kind.operand:
        return "-"
    return f"`{kind.wanted}` (optional)" if kind.operand.endswith("?") else f"`{kind.wanted}`"


def markdown() -> str:
    """The whole docs page."""
    rows = [f"| `{k.name}` | {k.code} | {_operand(k)} | "
            f"{', '.join(f'`{f}`' for f in k.fields) or '-'} | {_placement(k)} | {k.summary} |"
            for k in sorted(KINDS, key=lambda k: k.code)]
    sections = [f"## `{k.name}`\n\n{k.doc}\n" for k in sorted(KINDS, key=lambda k: k.code)]
    return HEADER + "\n".join(rows) + "\n\n" + "\n".join(sections)
