"""Print the README's table of the layers around the kernel (issue 16), measured now on
this machine, with the machine and the date. Run it on an idle machine:

    python scripts/speed_table.py            # Markdown table
    python scripts/speed_table.py --json     # the figures
    python scripts/speed_table.py --quick    # 10^5 scenarios end to end, 2x10^4 points (a smoke run)
    python scripts/speed_table.py --readme   # and write it into README.md between the speed-table marks
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # this checkout's waterfall


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def measure(quick: bool = False) -> dict:
    from waterfall import speed
    from waterfall.bench import BENCH_DEAL, end_to_end_process

    scenarios, points = (100_000, 20_000) if quick else (1_000_000, 100_000)
    out = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "scenarios": scenarios, "points": points}
    out["end_to_end"] = end_to_end_process(BENCH_DEAL, scenarios, 7, 2)
    out["sweep"] = speed.sweep_vs_kernel(samples=points)
    try:
        out["dask"] = speed.dask_vs_local(samples=points)
    except ImportError:
        out["dask"] = None
    out["irr"] = speed.irr_timings()
    out["run"] = speed.run_call()
    out["lanes"] = speed.lanes_vs_scalar(scenarios=20_000 if quick else 100_000)
    return out


def table(m: dict) -> str:
    e, s, d, i, r, k = m["end_to_end"], m["sweep"], m["dask"], m["irr"], m["run"], m["lanes"]
    rows = [
        ("measure", "target", "measured"),
        ("---", "---", "---"),
        (f"kernel, {k['scenarios']:,} scenarios of the benchmark deal, ns per scenario-period, 1 thread: "
         "lane blocks / one scenario at a time", "<= 18", f"{k['lanes_ns_1']:.1f} / {k['scalar_ns_1']:.1f} "
         f"({k['scalar_ns_1'] / k['lanes_ns_1']:.2f}x)"),
        ("the same, 2 threads", "<= 8", f"{k['lanes_ns_2']:.1f} / {k['scalar_ns_2']:.1f} "
         f"({k['scalar_ns_2'] / k['lanes_ns_2']:.2f}x)"),
        ("2 threads vs 1 thread (lane blocks)", ">= 1.8x", f"{k['thread_scaling']:.2f}x"),
        (f"{m['scenarios']:,} scenarios end to end, metrics only, 2 threads (build + kernel + DataFrame)",
         "<= 1.5 s, <= 300 MB", f"{e['end_to_end_s']:.2f} s ({e['end_to_end_build_s']:.2f} + "
         f"{e['end_to_end_kernel_s']:.2f} + {e['end_to_end_frame_s']:.2f}), {e['peak_rss_mb']:,.0f} MB "
         "peak RSS (whole process)"),
        (f"sweep on {s['deal']}, {s['points']:,} points, vs the kernel on the same scenarios",
         ">= 80%", f"{s['sweep_vs_kernel_same']:.0%} ({s['sweep_points_per_s']:,.0f} vs "
         f"{s['kernel_same_scenarios_per_s']:,.0f} /s)"),
        ("the same sweep vs the kernel on the bench's lease scenarios", "-",
         f"{s['sweep_vs_kernel_lease']:.0%} (kernel {s['kernel_lease_scenarios_per_s']:,.0f} scenarios/s)"),
    ]
    if d is not None:
        rows.append(("Dask, 2-worker LocalCluster on loopback, vs local", ">= 70%",
                     f"{d['dask_vs_local']:.0%} ({d['dask_points_per_s']:,.0f} vs {d['local_points_per_s']:,.0f} points/s)"))
    rows += [
        (f"IRR of a {i['periods']}-period vector, in a batch / one call", "<= 0.4 us / <= 0.8 us",
         f"{i['irr_batch_us']:.2f} us / {i['irr_single_us']:.2f} us"),
        (f"one `waterfall.run()` of {r['deal']}, compiled deal cached", "microseconds", f"{r['run_us']:,.0f} us"),
        ("kernel lanes (scenarios per vector) on the benchmark deal", "4 or 8", str(k["lanes"])),
    ]
    body = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"Measured {m['date']} on {m['machine']}:\n\n{body}\n"


README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- speed-table: python scripts/speed_table.py -->", "<!-- /speed-table -->"


def write_readme(text: str) -> None:
    """Replace what stands between the README's speed-table marks with `text`."""
    readme = README.read_text()
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}{END}{tail}")


def main(argv: list[str]) -> int:
    m = measure(quick="--quick" in argv)
    text = table(m)
    print(json.dumps(m, indent=2) if "--json" in argv else text)
    if "--readme" in argv:
        write_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
