"""Loss given default by default date, from a sweep (the enforcement issue's LGD by date)."""
from __future__ import annotations

import numpy as np
import pytest

import waterfall
from waterfall.sweeps.analysis import lgd_by_default_date


def test_lgd_by_default_year_on_a_tenant_default_sweep():
    frame = waterfall.sweep("tieout", {"scenario.tenant_default.period": [4, 8, 16, 24, 36]},
                            scenario="tenant-half-pay")
    table = lgd_by_default_date(frame)
    hit = frame[frame["default_period"].notna()]
    assert len(hit) >= 3 and len(table) >= 2
    # every default counted once, in the year its quarter falls in (quarter q: year ceil(q/4))
    assert table["defaults"].sum() == len(hit)
    years = np.ceil(hit["default_period"].to_numpy(float) * 3 / 12).astype(int)
    assert sorted(table["default_year"]) == sorted(set(years.tolist()))
    for _, row in table.iterrows():
        rows = hit[years == row["default_year"]]
        assert row["lgd"] == pytest.approx(float(np.mean(1 - np.minimum(rows["recovery_rate"], 1))))
        assert row["lgd_pv"] == pytest.approx(float(np.mean(1 - np.minimum(rows["recovery_rate_pv"], 1))))
        assert row["mean_loss"] == pytest.approx(float(rows["lender_loss"].mean()))
    by_period = lgd_by_default_date(frame, by_year=False)
    assert by_period["defaults"].sum() == len(hit)
