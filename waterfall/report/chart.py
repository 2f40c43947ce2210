"""The DSCR chart as inline SVG: the DSCR of each tested period (debt service due, before
any acceleration) against the lock-up and default covenants.

The y axis is capped at max(3x, 2 x the lock-up level): a deal's last periods (a sale, a
small final instalment) can show a DSCR of 10x or more, which would squash the band near
1.0x where covenants bite. Periods above the cap are drawn at the cap as open markers,
and the chart says how many and the highest value."""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 16, 34


def axis_cap(lock_up: float | None, default: float | None) -> float:
    """The top of the DSCR axis: max(3x, 2 x lock-up, 2 x default)."""
    levels = [x for x in (lock_up, default) if x is not None]
    return max([3.0] + [2.0 * x for x in levels])


def tested_points(frame) -> list[tuple[int, float]]:
    """(period, DSCR) where debt service is due and the lenders have not accelerated."""
    out = []
    for t, row in frame.iterrows():
        if row["debt_service"] > 0 and not row["workout"] and math.isfinite(row["dscr"]):
            out.append((int(t), float(row["dscr"])))
            if row["event_of_default"]:
                break
    return out


def dscr_svg(frame, lock_up: float | None, default: float | None, period_label: str) -> str:
    """The chart for a run's cash flows (Result.cash_flows())."""
    pts = tested_points(frame)
    cap = axis_cap(lock_up, default)
    n = max(len(frame) - 1, 1)

    def x(t):
        return LEFT + (WIDTH - LEFT - RIGHT) * t / n

    def y(v):
        return TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - max(min(v, cap), 0.0) / cap)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="DSCR by period against the covenants" xmlns="http://www.w3.org/2000/svg">']
    step = 0.5 if cap <= 4 else 1.0
    v = 0.0
    while v <= cap + 1e-9:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">{v:.1f}x</text>')
        v += step
    for t in range(0, n + 1, max(1, round(n / 8))):
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 14}" class="tick" text-anchor="middle">{t}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH) / 2:.0f}" y="{HEIGHT - 4}" class="tick" '
                 f'text-anchor="middle">{escape(period_label)}</text>')
    for level, cls, name, dy in ((lock_up, "lockup", "lock-up", -3), (default, "default", "default", 10)):
        if level is not None:  # the lock-up label above its line, the default label below
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
                         f'class="{cls}"/><text x="{WIDTH - RIGHT - 2}" y="{y(level) + dy:.1f}" class="tick {cls}" '
                         f'text-anchor="end">{name} {level:.2f}x</text>')
    if pts:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(pts))
        parts.append(f'<path d="{path}" class="dscr"/>')
        for t, v in pts:
            if v > cap:
                parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" class="over"/>')
    parts.append("</svg>")
    return "".join(parts)
