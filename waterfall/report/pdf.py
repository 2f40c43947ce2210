"""Headless Chromium: print the pack's HTML to PDF, take a screenshot, dump the DOM the
browser built. Chromium is Debian's `chromium` (or `chromium-browser`, `google-chrome`);
without one these raise OutputError saying how to install it."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import OutputError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 120  # seconds for one page


def chromium() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def base_command(profile: Path) -> list[str]:
    """Chromium headless with a fresh profile, no network fetches of its own (no
    sandbox: CI runs as root)."""
    exe = chromium()
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}"]


def run_chromium(args: list[str], out: Path) -> subprocess.CompletedProcess:
    """Run Chromium headless with `args` (the page last); OutputError naming `out` if it
    is missing or fails."""
    if chromium() is None:
        raise OutputError(out, "a PDF needs headless Chromium, which is not installed "
                               "(apt-get install -y chromium), or write .html instead")
    with tempfile.TemporaryDirectory(prefix="wf-chromium-", ignore_cleanup_errors=True) as profile:
        try:
            proc = subprocess.run(base_command(Path(profile)) + args, capture_output=True, text=True,
                                  timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise OutputError(out, f"Chromium did not finish in {TIMEOUT} s") from None
    return proc


def html_to_pdf(page: str, out: Path) -> Path:
    """Print `page` (HTML text) to the PDF `out` with headless Chromium."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="wf-report-") as work:
        src = Path(work) / "report.html"
        src.write_text(page, encoding="utf-8")
        proc = run_chromium(["--no-pdf-header-footer", f"--print-to-pdf={out}", src.as_uri()], out)
        if not out.exists() or out.stat().st_size == 0:
            raise OutputError(out, f"Chromium wrote no PDF (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
    return out
