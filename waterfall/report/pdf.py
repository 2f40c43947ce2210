"""Headless Chromium: print the pack's HTML to PDF, take a screenshot, dump the DOM the
browser built. Chromium is Debian's `chromium` (or `chromium-browser`, `google-chrome`);
without one these raise OutputError saying how to install it."""
from __future__ import annotations

import re
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


# The pack is one page: printed at these zooms in turn until it fits (the CSS's print sizes
# first; a deal with many tranches and sources is shrunk a little, never below legibility).
FIT_ZOOMS = (1.0, 0.92, 0.85, 0.78)


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF Chromium wrote (its page objects; Skia writes no object streams)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def html_to_pdf(page: str, out: Path) -> Path:
    """Print `page` (HTML text) to the PDF `out` with headless Chromium, on one A4
    landscape page if it fits at any of FIT_ZOOMS (else at the smallest, on more pages)."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="wf-report-") as work:
        for zoom in FIT_ZOOMS:
            src = Path(work) / "report.html"
            src.write_text(page.replace("</style>", f"@media print{{html{{zoom:{zoom}}}}}</style>", 1),
                           encoding="utf-8")
            proc = run_chromium(["--no-pdf-header-footer", f"--print-to-pdf={out}", src.as_uri()], out)
            if not out.exists() or out.stat().st_size == 0:
                raise OutputError(out, f"Chromium wrote no PDF (exit {proc.returncode}): "
                                       f"{proc.stderr.strip()[-400:]}")
            if pdf_pages(out.read_bytes()) <= 1:
                break
    return out
