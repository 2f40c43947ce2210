"""The session fixture that recalculates every hand-worked workbook in one LibreOffice start."""
from __future__ import annotations

import pytest

from .handworked import recalculate_cases
from waterfall.output.recalc import soffice


@pytest.fixture(scope="session")
def lo_ledgers(request, tmp_path_factory):
    """{test module name: recalculated ledger (or the exception)} for every module of the
    session that defines `workbook_case()` -> (deal, scenario name)."""
    if soffice() is None:  # CI never gets here: tests/conftest.py fails the session first
        pytest.skip("LibreOffice (soffice) is not installed")
    modules = {}
    for item in request.session.items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "workbook_case"):
            modules.setdefault(module.__name__, module)
    cases = {name: module.workbook_case for name, module in modules.items()}
    return recalculate_cases(cases, tmp_path_factory.mktemp("hand-worked-lo"))
