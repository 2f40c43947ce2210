"""The kernel's fast paths (docs/speed.md) against the reference: the DSRA target summed in
O(1) from prefix sums, the XIRR on the program's gap table, the IRR's copies."""
from __future__ import annotations

import numpy as np
import pytest

from waterfall import engine, irr, ops, reference
from waterfall.bench import _subset, lease_scenarios
from waterfall.compile import compile_deal
from waterfall.load import load_deal

from .test_parity import assert_same

pytestmark = pytest.mark.skipif(not engine.kernel_available(), reason="the kernel is not built")


def test_dsra_window_and_xirr_match_the_reference_on_lease_scenarios():
    """benchmark_spv's DSRA (6 periods of senior debt service, floating rate) funded every
    period from the O(1) window, and the XIRRs on the program's gap table: the ledgers and
    metrics of 40 generated lease scenarios (tenant defaults, rate shocks) equal the
    reference's to 1e-9, including the last six periods of the senior's amortisation, where
    the balance runs out inside the window and the kernel falls back to the loop."""
    program = compile_deal(load_deal("benchmark_spv"))
    batch = _subset(lease_scenarios(program.n_periods, 400, seed=3), np.arange(0, 400, 10))
    led_r, met_r, wal_r = reference.run_batch(program, batch)
    led_c, met_c, wal_c = engine.run_program(program, batch, ledgers=True, threads=1)
    assert_same(led_c, led_r, "ledger")
    assert_same(met_c, met_r, "metrics")
    assert_same(wal_c, wal_r, "wal")
    # the DSRA is funded (a positive closing balance) in most periods: the window is exercised
    from waterfall.results import ledger_columns
    dsra = ledger_columns(program).index("dsra.balance_close")
    assert (led_c[:, 1:program.n_periods, dsra] > 0.0).mean() > 0.5
    assert np.isfinite(met_c[:, ops.M["equity_xirr"]]).mean() > 0.5


def test_irr_and_irr_many_leave_their_input_alone():
    """Noise (|x| <= 1e-9) is zeroed in the kernel's own copy, never in the caller's array.
    Flows -100, 1e-10 (noise), 110 at periods 0, 1, 2: -100 + 110 / (1 + r)^2 = 0, so
    r = sqrt(1.1) - 1 = 4.8809% a period, either way."""
    from waterfall import _kernel

    root = np.sqrt(1.1) - 1.0
    flows = np.array([-100.0, 1e-10, 110.0])
    many = np.vstack([flows, flows * 2.0])
    assert _kernel.irr(flows) == pytest.approx(root, abs=1e-12)
    assert np.allclose(_kernel.irr_many(many), [root, root], atol=1e-12)
    assert flows[1] == 1e-10 and many[0, 1] == 1e-10 and many[1, 1] == 2e-10
    # a list, an int array and a strided view take the general path: the same root
    assert _kernel.irr([-100, 0, 110]) == pytest.approx(root, abs=1e-12)
    assert _kernel.irr(np.array([-100, 0, 110])) == pytest.approx(root, abs=1e-12)
    assert _kernel.irr(np.array([-100.0, 5.0, 0.0, 7.0, 110.0])[::2]) == pytest.approx(root, abs=1e-12)
    assert irr.irr(flows) == pytest.approx(_kernel.irr(flows), abs=1e-12)
