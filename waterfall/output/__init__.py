"""Output for analysts: Excel workbooks (excel.py; live formulas in formulas.py),
PNG plots (plots.py) and a headless LibreOffice recalculation (recalc.py)."""
