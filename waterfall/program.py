"""The compiled form of a deal (flat numpy arrays) and of a batch of scenarios.

Both interpreters (the pure-Python reference and the Cython kernel) read only these.
Periods run t = 0..T, where 0 is financial close.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NO_LIMIT = -1.0  # a covenant threshold that is not set


@dataclass
class Program:
    """A deal compiled for one base case. Amounts in deal units (USD millions),
    rates annual decimals, `accrual` in years per period."""

    n_periods: int
    months_per_period: int
    cod_period: int
    base_rent: np.ndarray          # [T+1] contracted rent
    opex: np.ndarray               # [T+1]
    capex: np.ndarray              # [T+1] construction spend
    equity_in: np.ndarray          # [T+1] sponsor contributions
    base_rate: np.ndarray          # [T+1] floating base rate, annual
    draw: np.ndarray               # [K, T+1]
    accrual: np.ndarray            # [K, T+1]
    is_floating: np.ndarray        # [K] int64
    fixed_rate: np.ndarray         # [K, T+1] coupon by period (step-ups)
    spread: np.ndarray             # [K, T+1] margin by period (step-ups)
    floor: np.ndarray              # [K] (-1e9 when none)
    sched: np.ndarray              # [K, T+1] scheduled principal (balloon excluded)
    maturity: np.ndarray           # [K] int64 period of the balloon
    capitalise: np.ndarray         # [K, T+1] int64: 1 = interest capitalised
    hard: np.ndarray               # [K] int64: shortfall is an event of default
    dscr_mask: np.ndarray          # [K] int64
    acct_kind: np.ndarray          # [A] int64 (ops.ACCOUNT_KIND)
    acct_periods: np.ndarray       # [A] int64
    acct_target: np.ndarray        # [A, T+1] a fixed reserve's target by period (USD)
    acct_mask: np.ndarray          # [A, K] int64
    fee_due: np.ndarray            # [F, T+1]
    step_op: np.ndarray            # [S] int64
    step_arg: np.ndarray           # [S] int64
    step_share: np.ndarray         # [S]
    step_share_locked: np.ndarray  # [S]
    lock_up_dscr: float
    default_dscr: float
    cure_periods: int
    asset_value: np.ndarray        # [4, T+1] gross value by component class (land, shell, mep, it)
    fire_sale: float
    cost_share: float
    cost_fixed: float
    refi_spread: np.ndarray        # [K] annual spread of a refinancing at maturity
    refi_floor: np.ndarray         # [K]
    refi_periods: np.ndarray       # [K] int64 amortisation of the refinancing (0 = none)
    refi_min_dscr: np.ndarray      # [K] the new loan's sizing DSCR (0 = no test)
    refi_max_ltv: np.ndarray       # [K] the new loan's sizing LTV on all the SPV's debt (0 = no test)
    refi_min_dy: np.ndarray        # [K] the new loan's sizing debt yield, annual (0 = no test)
    refi_rate_kind: np.ndarray     # [K] int64 the new loan's rate: 0 floating (base + spread), 1 fixed
    refi_fixed: np.ndarray         # [K] the new loan's fixed rate, annual (rate kind 1)
    refi_profile: np.ndarray       # [K] int64 its amortisation: 0 straight-line, 1 level payment, 2 sculpted
    ext_options: np.ndarray        # [K] int64 extension options (0 = none)
    ext_periods: np.ndarray        # [K] int64 periods each option adds
    ext_fee: np.ndarray            # [K] extension fee, share of the balloon
    ext_step: np.ndarray           # [K] margin step-up on extension, annual
    ext_min_dscr: np.ndarray       # [K] extension test: last period's DSCR (0 = no test)
    ext_max_ltv: np.ndarray        # [K] extension test: LTV on all the SPV's debt (0 = no test)
    ext_min_dy: np.ndarray         # [K] extension test: debt yield on all the SPV's debt (0 = no test)
    bb_advance: np.ndarray         # [K] borrowing-base advance rate (0 = none)
    bb_mask: np.ndarray            # [K, 4] int64 components in the collateral
    rvg_cap: float                 # residual value guarantee cap, USD (0 = none)
    rvg_until: int                 # last period the guarantee covers
    exit_share: float = 0.0        # net share of curve value realised at the last period
    # --- events, workout and valuation (waterfall/workout.py; docs/credit.md)
    rank: np.ndarray = None        # [K] int64 seniority in enforcement (equal: pro rata)
    support_kind: int = 0          # sponsor support: 0 none, 1 capped, 2 unlimited
    support_cap: float = 0.0       # total a capped support pays, USD
    breach_accelerates: int = 0    # 1: a default-DSCR breach accelerates (else lock-up only)
    accelerate_after: int = 0      # periods in breach past the cure periods before that
    cure_max: int = 0              # equity cures allowed over the life
    cure_max_amount: float = -1.0  # per cure, USD (-1: no cap)
    cure_until: int = -1           # last period a cure may be made
    lock_up_basis: int = 0         # the lock-up test's DSCR: 0 point, 1 trailing 12 months, 2 forward 12 months
    default_basis: int = 0         # the default test's DSCR, the same codes (credit_terms.DSCR_BASIS)
    dscr_window: int = 1           # periods in 12 months (the trailing and forward windows)
    hedge_ratio_min: float = -1.0  # hedge-ratio covenant: minimum notional / floating covenant debt (-1: none)
    hedge_ratio_from: int = 0      # its first and last tested periods
    hedge_ratio_to: int = -1
    hedge_ratio_accelerates: int = 0  # 1: a breach is an event of default (else lock-up)
    tenant_accelerates: int = 0    # 1: the lease in place stopping to pay accelerates
    sale_periods: int = 0          # periods from acceleration to the sale
    sale_rule: int = 0             # 0 sell after sale_periods; 1 best execution within them (workout.best_sale)
    workout_cost: float = 0.0      # receiver's and legal costs per workout period, USD
    default_margin: float = 0.0    # annual, on top of the contract rate in the workout
    val_method: int = 0            # 0 depreciated replacement cost, 1 appraisal
    val_discount: float = 1.0      # per-period discount factor of the appraisal (income approach)
    exit_cap: float = 0.065        # annual exit cap rate (residual and dark value)
    market_rent: np.ndarray = None  # [T+1] annual market rent, USD
    round_to: np.ndarray = None    # [K] interest rounded to a multiple of this each period (0 = none)
    periods_a_year: np.ndarray = None  # [T+1] 12 / months / the period's share of a regular one (a stub's
                                       # days): x a period's flow = its annual rate (appraisal NOI)
    relet_periods: int = 0         # periods a dark asset takes to re-let (dark value)
    reletting_cost: float = 0.0    # re-letting costs as a share of a year's market rent
    replacement_floor: float = 0.0  # appraisal floor as a share of replacement cost
    exit_value_share: float = 0.0  # gross exit value as a share of replacement cost (0: no exit)
    cross_accelerates: int = 0     # 1: the linked obligor's default (scenario channel cross) accelerates
    amounts: np.ndarray = None     # [K] commitments after sizing
    llcr_end: int = -1             # last period of the LLCR: the covenant tranches' latest notional maturity
    llcr_dsra: int = 0             # 1: the LLCR adds the DSRA balances to the NPV of CFADS
    llcr_dates_end: int = -1       # last LLCR calculation date: the covenant tranches' latest legal maturity
    # --- interest-rate hedges (waterfall/hedges.py; docs/credit.md)
    hedge_kind: np.ndarray = None      # [H] int64: 0 pay-fixed swap, 1 bought cap
    hedge_tranche: np.ndarray = None   # [H] int64 the hedged tranche
    hedge_rank: np.ndarray = None      # [H] int64 rank of a termination claim in the recovery
    hedge_rate: np.ndarray = None      # [H] swap fixed rate or cap strike, annual
    hedge_premium: np.ndarray = None   # [H] cap premium paid at close (in capex), USD
    hedge_notional: np.ndarray = None  # [H, T+1] notional by period (0 outside the hedge's life)
    hedge_accrual: np.ndarray = None   # [H, T+1] years per period by the hedge's day count
    uses_at_close: dict = field(default_factory=dict)  # costs at close in capex[0] besides the assets (name -> USD)
    reserve_at_close: np.ndarray = None  # [A] equity paid in to fund each account at close (0: not funded)
    acct_last_weight: np.ndarray = None  # [A] weight of the last period of a DSRA's window (a target in
    #                                      months that is not whole periods: 6 months of a year = 0.5)
    acct_lc: np.ndarray = None     # [A, T+1] face of the letter of credit backing each DSRA, from the
    #                                period it is issued (0: none); reserves.issue_letters_of_credit
    acct_rate: np.ndarray = None   # [A, T+1] interest earned on each reserve's opening balance for the
    #                                period: annual rate x ACT/365F years between payment dates
    names: dict = field(default_factory=dict)  # tranches, accounts, fees: lists of names
    dates: list = field(default_factory=list)  # payment date of each period (business-day adjusted)
    flow_years: np.ndarray = None  # [T+1] ACT/365F years from financial close (dates[0]) to each
    #                                payment date: the times of the XIRR's flows
    # --- owner-level taxes (waterfall/taxes.py; docs/taxes.md): off unless tax_on
    tax_on: int = 0                # 1: the deal has a [tax] section
    tax_rate: float = 0.0          # income tax rate, decimal
    tax_interest: int = 1          # 1: cash interest paid is deductible
    tax_offset: int = 0            # 1: a loss is used at once (a benefit); 0: carried forward
    tax_nol_limit: float = 1.0     # share of a period's taxable income a carried loss may offset
    tax_basis: float = 0.0         # total asset cost: the basis an exit gain is measured from, USD
    tax_depreciation: np.ndarray = None  # [T+1] tax depreciation, USD
    property_tax: np.ndarray = None      # [T+1] property tax, USD (already in opex)

    def __post_init__(self):
        if self.acct_last_weight is None:   # targets in whole periods
            self.acct_last_weight = np.ones(self.acct_kind.shape[0])
        if self.acct_lc is None:   # no letter of credit
            self.acct_lc = np.zeros((self.acct_kind.shape[0], self.n_periods + 1))
        if self.acct_rate is None:   # reserves that earn nothing
            self.acct_rate = np.zeros((self.acct_kind.shape[0], self.n_periods + 1))
        if self.tax_depreciation is None:   # a program with no taxes
            self.tax_depreciation = np.zeros(self.n_periods + 1)
            self.property_tax = np.zeros(self.n_periods + 1)
        if self.hedge_kind is None:   # a program with no hedges
            width = self.n_periods + 1
            for name in ("hedge_kind", "hedge_tranche", "hedge_rank"):
                setattr(self, name, np.zeros(0, dtype=np.int64))
            self.hedge_rate, self.hedge_premium = np.zeros(0), np.zeros(0)
            self.hedge_notional, self.hedge_accrual = np.zeros((0, width)), np.zeros((0, width))

    @property
    def n_hedges(self) -> int:
        return self.hedge_kind.shape[0]

    @property
    def n_tranches(self) -> int:
        return self.draw.shape[0]

    @property
    def n_accounts(self) -> int:
        return self.acct_kind.shape[0]

    @property
    def n_fees(self) -> int:
        return self.fee_due.shape[0]


@dataclass
class ScenarioBatch:
    """S scenarios as compact parameters: adjustments (channel, from, to, value) padded
    with channel -1, and an optional base-rate path per scenario (index into `paths`,
    -1 for the deal's curve). Memory is O(S x J), not O(S x T)."""

    names: list[str]
    adj_channel: np.ndarray  # [S, J] int64
    adj_from: np.ndarray     # [S, J] int64
    adj_to: np.ndarray       # [S, J] int64
    adj_value: np.ndarray    # [S, J]
    path_index: np.ndarray   # [S] int64
    paths: np.ndarray        # [R, T+1]

    def __len__(self) -> int:
        return self.adj_channel.shape[0]

    def row(self, s: int) -> "ScenarioBatch":
        return ScenarioBatch(
            names=[self.names[s]], adj_channel=self.adj_channel[s:s + 1],
            adj_from=self.adj_from[s:s + 1], adj_to=self.adj_to[s:s + 1],
            adj_value=self.adj_value[s:s + 1], path_index=self.path_index[s:s + 1],
            paths=self.paths)


class ScenarioNames:
    """The names `<prefix><i>` of `count` generated scenarios (i from `start`), made only
    when read: a million generated scenarios hold no million strings. A read-only sequence
    (len, index, slice, iterate, compare with a list)."""

    def __init__(self, prefix: str, count: int, start: int = 0):
        self.prefix, self.count, self.start = prefix, int(count), int(start)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(self.count)
            if step == 1:
                return ScenarioNames(self.prefix, max(0, hi - lo), self.start + lo)
            return [self[j] for j in range(lo, hi, step)]
        if isinstance(i, (list, np.ndarray)):
            return [self[int(j)] for j in i]
        i = int(i)
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError("scenario index out of range")
        return f"{self.prefix}{self.start + i}"

    def __iter__(self):
        return (f"{self.prefix}{i}" for i in range(self.start, self.start + self.count))

    def __eq__(self, other) -> bool:
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"ScenarioNames({self.prefix!r}, {self.count}, start={self.start})"

    def column(self):
        """The names as a pandas string array where pyarrow is installed (else a list),
        written straight into Arrow's buffers (`_arrow_names`): no Python string and no
        intermediate Arrow array per scenario, so a million names cost their own 15 MB."""
        try:
            import pandas as pd
            import pyarrow as pa
        except ImportError:
            return list(self)
        dtype = pd.StringDtype("pyarrow", na_value=np.nan)
        if self.start < 0:   # "-" is no digit: names of negative numbers as strings
            return pd.array(list(self), dtype=dtype)
        offsets, data = _arrow_names(self.prefix, self.start, self.count)
        names = pa.LargeStringArray.from_buffers(self.count, pa.py_buffer(offsets), pa.py_buffer(data))
        return pd.array(names, dtype=dtype)


_NAME_ROWS = 1 << 16   # rows of names written at once


def _arrow_names(prefix: str, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The Arrow large_string buffers of the names `<prefix><i>`, i = start..start+count-1:
    int64 offsets [count + 1] and the UTF-8 bytes. Numbers of one digit count are a run of
    consecutive integers whose names share one width, so each run is a [rows, width] byte
    table filled a digit column at a time."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    runs, lo, end, total = [], start, start + count, 0
    widths = np.empty(count, dtype=np.uint8)   # each name's length in bytes
    while lo < end:   # [lo, hi): the numbers with as many digits as lo
        digits = len(str(lo))
        hi = min(end, 10 ** digits)
        widths[lo - start:hi - start] = len(head) + digits
        runs.append((lo, hi, digits, total))
        total += (len(head) + digits) * (hi - lo)
        lo = hi
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(widths, dtype=np.int64, out=offsets[1:])
    del widths
    data = np.empty(total, dtype=np.uint8)
    for lo, hi, digits, at in runs:
        table = data[at:at + (len(head) + digits) * (hi - lo)].reshape(hi - lo, len(head) + digits)
        table[:, :len(head)] = head
        for first in range(lo, hi, _NAME_ROWS):   # a few rows at a time: small temporaries
            rows = table[first - lo:first - lo + _NAME_ROWS, len(head):]
            number = np.arange(first, first + len(rows), dtype=np.int64)
            digit = np.empty_like(number)
            for d in range(digits - 1, -1, -1):   # the last digit first
                np.remainder(number, 10, out=digit)
                rows[:, d] = digit
                number //= 10
            rows += 48   # the digit's character ("0" is 48)
    return offsets, data


class ColumnBatch:
    """S scenarios as J adjustment columns (channel, from, to, value), each a 1-D array
    of S or one value for every scenario: a few parameters per scenario, not a row of
    [J] of every field, and nothing per period. A column given as one value is broadcast
    (stride 0: no memory); the kernel reads each column with its own stride. Reads like a
    ScenarioBatch (`adj_channel` and the others are made [S, J] on first use, for the
    reference)."""

    def __init__(self, names, columns: list, n_periods: int, path_index=None, paths=None):
        self.names = names
        size = len(names)
        types = (np.int64, np.int64, np.int64, np.float64)
        self.columns = [tuple(np.broadcast_to(np.asarray(x, dtype=t), (size,)) for x, t in zip(col, types))
                        for col in columns]
        self.path_index = np.broadcast_to(np.int64(-1) if path_index is None else
                                          np.asarray(path_index, dtype=np.int64), (size,))
        self.paths = np.zeros((0, n_periods + 1)) if paths is None else paths
        self.n_periods = n_periods
        self._dense = None

    def __len__(self) -> int:
        return len(self.names)

    def adj_columns(self):
        """([channel columns], [from], [to], [value]) for the kernel."""
        return tuple([col[f] for col in self.columns] for f in range(4))

    def _dense_arrays(self):
        if self._dense is None:
            size = len(self)
            self._dense = tuple(np.column_stack(c) if c else np.zeros((size, 0), dtype=t)
                                for c, t in zip(self.adj_columns(),
                                                (np.int64, np.int64, np.int64, np.float64)))
        return self._dense

    adj_channel = property(lambda self: self._dense_arrays()[0])
    adj_from = property(lambda self: self._dense_arrays()[1])
    adj_to = property(lambda self: self._dense_arrays()[2])
    adj_value = property(lambda self: self._dense_arrays()[3])

    def take(self, rows) -> ScenarioBatch:
        """The scenarios `rows` as a dense ScenarioBatch."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = self.adj_columns()
        dense = [np.column_stack([c[rows] for c in field]) if field else np.zeros((len(rows), 0))
                 for field in cols]
        return ScenarioBatch(names=[self.names[int(i)] for i in rows], adj_channel=dense[0].astype(np.int64),
                             adj_from=dense[1].astype(np.int64), adj_to=dense[2].astype(np.int64),
                             adj_value=dense[3].astype(np.float64), path_index=self.path_index[rows].copy(),
                             paths=self.paths)

    def row(self, s: int) -> ScenarioBatch:
        return self.take([s])
