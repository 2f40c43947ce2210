"""In CI (CI=true, as .ci/run is run) nothing may be skipped for want of a part: the
compiled kernel, LibreOffice and Chromium are installed by the project's own files, so their
absence is a failure there, not a skip. On a developer's machine the tests that need
them skip with the reason (see README, Tests)."""
from __future__ import annotations

import os
import shutil

import pytest


def pytest_sessionstart(session):
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    from waterfall import engine

    missing = []
    if not engine.kernel_available():
        missing.append(f"the compiled kernel ({engine.kernel_error()})")
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        missing.append("LibreOffice (soffice)")
    from waterfall.report.pdf import chromium
    if chromium() is None:
        missing.append("headless Chromium (chromium)")
    if missing:
        raise pytest.UsageError("CI must run every test, but these are missing: " + "; ".join(missing))
