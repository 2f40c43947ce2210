"""Reserve: set a reserve account (DSRA or fixed) to min(target, cash)."""
from __future__ import annotations

from .base import Line, StepKind

CODE = 3
NAME = "reserve"


def _not_lockup(deal, i, step):
    accounts = {a.name: a for a in deal.accounts}
    if step.account in accounts and accounts[step.account].kind == "lockup":
        return [(f"waterfall[{i}].account", "a lockup account is filled by distribute, not reserve",
                 step.account)]
    return []


class Reserve(StepKind):
    def lines(self, program, i, arg):
        from .. import ops
        out = []
        if program.acct_kind[arg] == ops.ACCOUNT_KIND["dsra"]:
            names = program.names["tranches"]
            for k in range(program.n_tranches):
                if program.acct_mask[arg, k]:
                    sculpted = program.refi_periods[k] > 0 and program.refi_profile[k] == 2
                    for j in range(1, int(program.acct_periods[arg])):
                        out.append(Line(f"proj{k}.{j}", f"projected {names[k]} balance +{j}", level=1))
                        if sculpted:   # its refinanced schedule follows the sculpted shape's balance
                            out.append(Line(f"proj{k}.{j}.sb", f"projected {names[k]} shape balance +{j}",
                                            level=1))
        out.append(Line("target", "target", level=1))
        if program.acct_lc[arg].any():
            out += [Line("lc_due", "owed to the LC bank with the period's drawing", level=1),
                    Line("lc_repay", "reimbursed to the LC bank", total=True),
                    Line("lc_owed", "owed to the LC bank after reimbursement", level=1),
                    Line("cash_target", "cash target (target less the LC available)", level=1)]
        return out + [Line("pay", "balance set"), Line("cash", "cash left", level=1)]

    def cash(self, p, i, a):
        target = p.put(i, "target", p.reserve_target(i, a))
        if p.has_lc(a):
            target = self._letter_of_credit(p, i, a, target)
        new = p.put(i, "pay", p.IF(p.D, p.reserve[a], p.MIN(target, p.cash)))
        p.cash = p.put(i, "cash", p.IF(p.D, p.cash, p.cash - new))
        p.reserve[a] = new

    @staticmethod
    def _letter_of_credit(p, i, a, target):
        """An account backed by a letter of credit: the LC bank is reimbursed first (what it
        was owed plus the period's LC amount the waterfall had at its disposal, as far as
        cash goes); the undrawn LC then counts as cover, so the cash target is the target
        less the face not owed to the bank. Returns the cash target."""
        due = p.put(i, "lc_due", p.lc_owed[a] + p.lc_out[a])
        repay = p.put(i, "lc_repay", p.IF(p.D, 0.0, p.MIN(due, p.cash)))
        p.cash = p.cash - repay
        owed = p.put(i, "lc_owed", p.IF(p.D, p.lc_owed[a], due - repay))
        p.lc_out[a] = p.IF(p.D, p.lc_out[a], 0.0)
        p.lc_owed[a] = owed
        return p.put(i, "cash_target", p.MAX(target - p.MAX(p.lc_face(a) - owed, 0.0), 0.0))


KIND = Reserve(
    code=CODE, name=NAME, operand="account", checks=(_not_lockup,),
    summary="set the account to min(target, cash): refills a shortfall, releases a surplus",
    doc="Every reserve's opening balance is released into cash at the start of the period, with "
        "the interest it earned over the period (`interest_rate`, the `reserve_interest` line); the "
        "step then sets the account to min(target, cash). The target of a DSRA is the scheduled "
        "debt service (cash interest and scheduled principal, no balloon) of the next "
        "`periods` periods (`target_periods`, or `target_months` in whole periods) on the tranches "
        "it covers, projected from the current balance, plus the net settlements of the hedges on "
        "those tranches projected on the scenario's index (never below zero); a fixed reserve's "
        "target is its amount, or `target_months` / 12 of the annual cost of its `target_opex` lines "
        "as escalated in the period (a maintenance reserve). An account `funded_at_close` is paid in by the sponsors in the last "
        "period before operation (docs/money.md). Every target is zero in the last period, so reserves "
        "are released to the waterfall at the end. A DSRA backed by a `letter_of_credit`: the LC's "
        "undrawn amount is at the waterfall's disposal with the cash from the start of the period; "
        "this step first reimburses the LC bank (what it is owed plus that amount, as far as cash "
        "goes: what is not reimbursed is the period's drawing), then sets the cash part to "
        "min(target less the face not owed, cash), so the cash reserve is used before the LC.",
)
