"""What a waterfall step kind is made of, and the small numeric protocol its cash rule
is written against.

A step kind (one module in this package) declares, in one place:

- its schema part: the operand it names (`operand`: "tranche", "account", "fee", or
  "account?" when optional) and the `Step` fields it reads (`fields`);
- its load-time checks (`check`), on top of the ones every kind gets from its
  declaration (operand present and known, `once` per operand, `after` another kind on
  the same operand, `last` in the waterfall);
- what it compiles to (`code` and the operand's index, `compile_arg`);
- its cash rule (`cash`), written once against a `Period` (below). Evaluated on floats
  (steps.floats) the rule is the reference interpreter's step; evaluated on cell
  expressions (steps.cells) it writes the live Excel formula of the same step;
- the working lines that rule writes into the workbook (`lines`) and its docs entry.

The Cython kernel (ext/_kernel.pyx) is the one hand-written twin of every `cash` rule;
its opcodes come from `code` here (generated into ext/_layout.pxi at build time).

The protocol. A rule sees a `Period` `p` with:
- `p.IF(c, a, b)`, `p.MIN(a, b)`, `p.MAX(a, b)`, and + - * / < > on its values;
- `p.put(i, name, x)`: records x as the step's working line `name` (a cell in the
  workbook) and returns what to use from then on (x itself on floats, the cell's
  reference in the workbook);
- the state of the period, which the rule reads and sets: `p.cash` (cash left),
  `p.D` (the cause of an event of default so far, 0 for none: once set, every later
  step pays nothing, and a step that finds one sets it to its cause),
  `p.locked` (the lock-up test failed), and per tranche `p.int_due[k]`,
  `p.prin_due[k]`, `p.bal[k]`; per account `p.reserve[a]`; per hedge `p.hedge_due[h]`
  (its net settlement owed in cash; negative: owed to the SPV);
- the deal's terms for the period: `p.hard(k)` (a fixed property: a shortfall is an
  event of default), `p.balloon(k)` (the whole balance is due this period),
  `p.share(i)`, `p.share_locked(i)`, `p.advance(k)`, `p.collateral(k)`,
  `p.fee_due(f)`, `p.reserve_target(i, a)`, `p.has_lc(a)` and `p.lc_face(a)` (a fixed
  property: account a is backed by a letter of credit; its face in the period), per account
  `p.lc_owed[a]` and `p.lc_out[a]` (owed to the LC bank; the LC amount at the waterfall's
  disposal not yet settled), `p.trap(a)` (a distribute step may trap
  cash in account a; -1 when it has none);
- ledger effects: `p.interest_paid(k, x)`, `p.capitalised(k, x)`,
  `p.principal_paid(k, x)`, `p.prepaid(k, x)`, `p.fee_paid(f, due, x)`, `p.hedge_paid(h, x)`,
  `p.to_equity(x)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

Problem = tuple[str, str, object]

# Causes of an event of default, as `p.D` carries them (0: none; workout.CAUSES names them)
PAYMENT, COVENANT, TENANT, CROSS_DEFAULT, BORROWING_BASE, MATURITY = 1.0, 2.0, 3.0, 4.0, 5.0, 6.0


@dataclass(frozen=True)
class Line:
    """A working line a step writes in the workbook's Cash flows sheet: row key
    `s<i>.<name>`, its label (after the step's name), number format, whether it has a
    Total (a flow line) and its outline level (1 = a detail row, grouped)."""

    name: str
    label: str
    fmt: str = "amount"
    total: bool = False
    level: int = 0


@dataclass(frozen=True)
class StepKind:
    """One kind of waterfall step: schema, checks, compile, cash rule and docs. The
    defaults suit a kind that names one tranche and reads no other field."""

    code: int
    name: str
    operand: str                      # "tranche" | "account" | "fee" | "hedge" | "account?" | ""
    summary: str                      # the cash rule in one sentence (docs, `waterfall schema`)
    fields: tuple[str, ...] = ()      # Step fields this kind reads besides its operand
    once: bool = True                 # at most one step of this kind per operand
    after: tuple[str, ...] = ()       # kinds that must come earlier on the same operand
    last: bool = False                # must be the waterfall's last step
    required: bool = False            # every tranche (hedge) needs one (operand "tranche", "hedge")
    doc: str = ""                     # longer docs entry (markdown)
    checks: tuple = field(default=(), compare=False)  # extra checks: f(deal, i, step) -> [Problem]

    @property
    def wanted(self) -> str:
        """The operand field's name ("" when the kind takes none)."""
        return self.operand.rstrip("?")

    def compile_arg(self, step, names: dict) -> int:
        """The operand as an index into the deal's tranches, accounts or fees (-1: none)."""
        wanted = self.wanted
        if not wanted:
            return -1
        value = getattr(step, wanted)
        if value is None:
            return -1
        return names[wanted + "s"].index(value)

    def label(self, names: dict, i: int, arg: int) -> str:
        """The step as the workbook and the docs name it: '3. interest senior'."""
        verb = self.name.replace("_", " ")
        if not self.wanted or arg < 0:
            return f"{i + 1}. {verb}"
        return f"{i + 1}. {verb} {names[self.wanted + 's'][arg]}"

    def lines(self, program, i: int, arg: int) -> list[Line]:
        """Working lines of step i in the workbook (see Line); override per kind."""
        return [Line("pay", "paid", total=True), Line("cash", "cash left", level=1)]

    def scalars(self, program, i: int, arg: int) -> list[tuple[str, str, str, float]]:
        """Terms of step i the workbook shows as inputs: (key, label, format, value), read by
        the rule through the period (e.g. a sweep's shares); keys start with `s<i>.`."""
        return []

    def cash(self, p, i: int, arg: int) -> None:  # pragma: no cover - every kind overrides
        raise NotImplementedError(self.name)


class UnknownStep(ValueError):
    """A compiled program holds an opcode that no step kind in the registry has."""

    def __init__(self, index: int, code: int):
        self.index, self.code = index, code
        super().__init__(f"waterfall step {index + 1} has opcode {code}, which is no known step kind "
                         f"(a program compiled by another version, or a corrupted one)")
