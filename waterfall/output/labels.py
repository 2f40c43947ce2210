"""Labels of the engine's ledger lines, shared by the values and the formula workbooks."""
from __future__ import annotations

GLOBAL_LABELS = {
    'revenue': 'Revenue',
    'opex': 'Operating costs',
    'cfads': 'Cash flow available for debt service (CFADS)',
    'capex': 'Construction spend (capex)',
    'equity_in': 'Equity contributions',
    'draws': "Debt drawn (incl. the lenders' protective advances)",
    'reserve_release': 'Reserves available (opening balances)',
    'reserve_interest': 'Interest earned on reserves (opening balances)',
    'exit_proceeds': 'Exit: net sale proceeds (last period)',
    'cash_available': 'Cash available',
    'debt_service': 'Scheduled debt service (covenant tranches)',
    'equity_cure': 'Equity cure paid in',
    'dscr': 'DSCR (after any equity cure)',
    'covenant_breach': 'Covenant breach: below the default DSCR past the cure periods (1 = yes)',
    'lock_up': 'Lock-up (1 = cash locked up: DSCR below the lock-up covenant, or a breach)',
    'reserve_funding': 'Reserves: closing balances',
    'fees_paid': 'Fees paid',
    'equity_distribution': 'Distributions to equity (incl. a surplus after enforcement)',
    'workout': 'In workout (1 = yes: the lenders run the SPV after accelerating, until the final recovery)',
    'event_of_default': 'Event of default: the lenders accelerate (1 = yes)',
    'workout_costs': 'Workout costs',
    'seizure_gross': 'Sale value, gross',
    'seizure_net': 'Sale proceeds, net of the fire-sale discount and costs',
    'guarantee_paid': 'Residual value guarantee paid',
    'hedge_settlement': 'Hedges: net settlements paid (received if negative)',
    'hedge_termination_received': 'Hedges: termination amounts received from the banks',
    'llcr': 'LLCR at the date (to the notional maturity)',
}

HEDGE_LABELS = {  # line -> (label, a flow line with a Total)
    'notional': ('Notional', False),
    'index_rate': ('Index rate (annual)', False),
    'net_due': ('Net settlement due (negative: the bank pays)', True),
    'capitalised': ('Capitalised onto the hedged tranche (construction)', True),
    'net_paid': ('Net settlement paid (received if negative)', True),
    'termination': ('Termination amount at acceleration (negative: owed to the SPV)', True),
    'claim': ("Hedge bank's claim left after the period's recovery", False),
    'recovery': ('Recovery to the hedge bank', True),
    'write_off': ('Write-off', True),
}

TRANCHE_LABELS = {  # line -> (label, a flow line with a Total)
    'balance_open': ('Opening balance', False),
    'draw': ('Draws', True),
    'rate': ('Interest rate (annual)', False),
    'interest_due': ('Interest due', True),
    'interest_paid': ('Interest paid', True),
    'interest_capitalised': ('Interest capitalised', True),
    'principal_due': ('Scheduled principal due', True),
    'principal_paid': ('Principal paid', True),
    'prepayment': ('Prepayment (cash sweep)', True),
    'recovery_interest': ('Recovery: interest', True),
    'recovery_principal': ('Recovery: principal', True),
    'write_off': ('Write-off', True),
    'refinanced': ('Refinanced at maturity', True),
    'balance_close': ('Closing balance', False),
    'interest_arrears': ('Interest arrears (after acceleration)', False),
    'claim': ("Lenders' claim at acceleration (balance + interest due)", False),  # a balance
}
