"""`waterfall report`: the credit committee pack, rendered by a real headless Chromium.

For two deals (the tie-out deal and Abilene, which defaults under some presets): the
page loads with no console error and fetches nothing but itself, its screenshot is not
blank, it fits a phone's width, and every number on it (each a data-key'd span) equals
what the engine gives through its public API (`waterfall.run`, `Result.cash_flows()`)
or what the deal file says (read with tomllib, not the model), in the DOM the browser
built (--dump-dom). Breakevens are checked by running the engine just either side of
them. The detectors are checked on pages made to fail."""
from __future__ import annotations

import math
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import waterfall
from waterfall.cli import main
from waterfall.model.scenario import Scenario
from waterfall.report import build_pack, write_report
from waterfall.report.pdf import chromium

from . import browser

ROOT = Path(__file__).resolve().parent.parent
DEALS = {"tieout": ROOT / "deals/examples/tieout.toml", "abilene": ROOT / "deals/abilene.toml"}
needs_chromium = pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed")


class Numbers(HTMLParser):
    """Every <span data-key> of a page: (key, fmt, data-value, shown text)."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-key" in a:
            self._open = [a["data-key"], a.get("data-fmt"), a.get("data-value"), ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[3] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == "span":
            self.found.append(tuple(self._open))
            self._open = None


def numbers(html: str) -> list:
    parser = Numbers()
    parser.feed(html)
    return parser.found


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    made = {}
    for name, path in DEALS.items():
        pack = build_pack(path)
        made[name] = (pack, write_report(pack, out / f"{name}.html"))
    return made


# --------------------------------------------------------------------------- expected values

def _sum(frame, column, last):
    return float(frame[column].iloc[: last + 1].sum())


def expected_values(deal_path: Path) -> dict:
    """Key -> value from the engine's public results and the deal file, computed here."""
    raw = tomllib.loads(deal_path.read_text())
    deal = waterfall.load_deal(deal_path)
    exp = {}
    from waterfall.scenarios.presets import preset_names
    for name in ["base"] + preset_names():
        result = waterfall.run(deal, name)
        m = result.metrics
        for key, value in m.items():
            if key != "wal_years":
                exp[f"metric.{name}.{key}"] = value
        for tranche, wal in m["wal_years"].items():
            exp[f"wal.{name}.{tranche}"] = wal
        frame = result.cash_flows()
        exp[f"rec.{name}.workout_periods"] = m["recovery_periods"]
        exp[f"rec.{name}.sale_gross"] = float(frame["seizure_gross"].sum())
        exp[f"rec.{name}.sale_net"] = float(frame["seizure_net"].sum())
        tested = frame[(frame["debt_service"] > 0) & (frame["workout"] == 0)]["dscr"]
        exp[f"chart.{name}.max_dscr"] = float(tested.max())
        if name == "base":
            exp.update(_sources_uses(frame, result.program.names["tranches"], raw["timeline"]))
    for tr in raw["tranches"]:
        pre = f"term.tranche.{tr['name']}"
        exp[f"{pre}.amount"] = tr["amount"]
        exp[f"{pre}.rate" if tr["rate"]["kind"] == "fixed" else f"{pre}.spread"] = tr["rate"].get(
            "annual", tr["rate"].get("spread"))
        exp[f"{pre}.maturity_period"] = tr.get("maturity_period", raw["timeline"].get("construction_periods", 0)
                                               + raw["timeline"]["operating_periods"])
    for i, lease in enumerate(raw.get("leases", [])):
        exp[f"term.lease.{i}.annual_rent"] = lease["annual_rent"]
        exp[f"term.lease.{i}.term_months"] = lease["term_months"]
    cov, enf = raw.get("covenants", {}), raw.get("enforcement", {})
    for key in ("lock_up_dscr", "default_dscr"):
        if key in cov:
            exp[f"term.covenants.{key}"] = cov[key]
    exp["term.enforcement.fire_sale_discount"] = enf.get("fire_sale_discount", 0.3)  # the schema's default
    exp["term.enforcement.months_to_sale"] = enf.get("months_to_sale", 0)
    return exp


def _sources_uses(frame, tranches, timeline) -> dict:
    last = timeline.get("construction_periods", 0)
    s = {f"su.draw.{t}": _sum(frame, f"{t}.draw", last) for t in tranches}
    idc = sum(_sum(frame, f"{t}.interest_capitalised", last) for t in tranches)
    s.update({"su.idc_debt": idc, "su.idc": idc, "su.capex": _sum(frame, "capex", last)})
    for key in ("equity_in", "sponsor_support", "equity_cure", "revenue", "seizure_net", "guarantee_paid",
                "exit_proceeds"):
        s[f"su.{key}"] = _sum(frame, key, last)
    s["su.interest_paid"] = sum(_sum(frame, f"{t}.interest_paid", last) for t in tranches)
    s["su.repaid"] = sum(_sum(frame, f"{t}.{x}", last) for t in tranches
                         for x in ("principal_paid", "prepayment", "recovery_interest", "recovery_principal"))
    s.update({"su.opex": _sum(frame, "opex", last), "su.fees": _sum(frame, "fees_paid", last),
              "su.workout_costs": _sum(frame, "workout_costs", last),
              "su.reserves": float(frame["reserve_funding"].iloc[last]),
              "su.distributions": _sum(frame, "equity_distribution", last)})
    # money is conserved every period, so over the window too: cash in = cash out
    s["su.total_sources"] = sum(s[f"su.draw.{t}"] for t in tranches) + idc + sum(
        s[f"su.{k}"] for k in ("equity_in", "sponsor_support", "equity_cure", "revenue", "seizure_net",
                               "guarantee_paid", "exit_proceeds"))
    s["su.total_uses"] = s["su.capex"] + idc + sum(s[f"su.{k}"] for k in (
        "interest_paid", "repaid", "opex", "fees", "workout_costs", "reserves", "distributions"))
    return s


def _shown(text: str, fmt: str) -> float | None:
    text = text.strip()
    if text == "-":
        return None
    text = text.replace(",", "").replace("+", "").rstrip("x%").removesuffix("bp").rstrip("%")
    value = float(text)
    return value / 100 if fmt in ("pct", "rate") else value


def _shown_precision(fmt: str) -> float:
    return {"ratio": 0.005, "pct": 0.00005, "rate": 0.000005, "int": 0.5, "bp": 0.05, "years": 0.005}.get(fmt, 0.05)


# --------------------------------------------------------------------------- the tests

@needs_chromium
@pytest.mark.parametrize("name", list(DEALS))
def test_every_number_on_the_rendered_page_is_the_engines(pages, name):
    pack, page = pages[name]
    dom = browser.dump_dom(page)
    found = numbers(dom)
    assert len(found) > 60, f"the browser's DOM has only {len(found)} numbers"
    exp = expected_values(DEALS[name])
    checked = 0
    for key, fmt, data, text in found:
        if key.startswith("be."):
            continue  # test_breakevens_are_where_the_engine_crosses
        assert key in exp, f"{name}: the page shows {key}, which the test cannot derive"
        want = exp[key]
        want = None if want is None or (isinstance(want, float) and not math.isfinite(want)) else float(want)
        got = None if data == "" else float(data)
        if want is None:
            assert got is None and text.strip() == "-", (key, data, text)
            continue
        assert got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (key, got, want)
        shown = _shown(text, fmt)
        assert shown is not None and abs(shown - want) <= _shown_precision(fmt) * (1 + 1e-9), (key, text, want)
        checked += 1
    assert checked > 50
    keys = {k for k, *_ in found}
    assert {"su.total_sources", "su.total_uses", "metric.base.min_dscr", "metric.regulation.lender_loss"} <= keys


@needs_chromium
@pytest.mark.parametrize("name", list(DEALS))
def test_page_loads_clean_fetches_nothing_and_fits_a_phone(pages, name, tmp_path):
    _, page = pages[name]
    tools = browser.DevTools()
    try:
        desktop = tools.open(page.resolve().as_uri(), 1280, 900)
        phone = tools.open(page.resolve().as_uri(), 390, 844)
    finally:
        tools.close()
    for view in (desktop, phone):
        assert view["console"] == [], view["console"]
        assert view["requests"] == [page.resolve().as_uri()], view["requests"]  # self-contained
    assert phone["scroll_width"] <= 390, "the page is wider than a phone; tables must scroll inside"
    shot = browser.screenshot(page, tmp_path / "shot.png")
    spread, levels = browser.pixel_spread(shot)
    assert spread > 20 and levels > 50, f"the screenshot looks blank (std {spread:.1f}, {levels} grey levels)"


@needs_chromium
def test_the_detectors_catch_a_broken_page(tmp_path):
    """A page with a console error and a missing image is caught; a blank one too."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="missing.png"><script>console.error("boom")</script></body></html>')
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    tools = browser.DevTools()
    try:
        view = tools.open(bad.resolve().as_uri())
    finally:
        tools.close()
    assert "boom" in view["console"] and len(view["requests"]) == 2
    spread, levels = browser.pixel_spread(browser.screenshot(blank, tmp_path / "blank.png"))
    assert spread < 1 and levels <= 2


def _crosses(deal, key, value, lock_up) -> bool:
    """Run the engine at this stress (waterfall.run, not the sweep) and judge the line."""
    _, stress, target = key.split(".", 2)
    cod = deal.timeline.construction_periods + 1
    part = {"rent_haircut": {"kind": "rent_multiplier", "from_period": 1, "multiplier": 1.0 - value},
            "relet_rate": {"kind": "tenant_default", "period": cod, "downtime_periods": 0,
                           "relet_haircut": 1.0 - value},
            "rate_shock": {"kind": "rate_shock", "bp": value, "from_period": 0}}[stress]
    result = waterfall.run(deal, Scenario(name="probe", adjustments=[part]))
    if target == "lock_up":
        return result.metrics["min_dscr"] < lock_up
    if target == "default":
        return result.metrics["default_period"] is not None
    from waterfall.metrics import tranche_losses
    losses = tranche_losses(result.program, result.ledger, result.metrics["default_period"])
    return losses[result.program.names["tranches"].index(target)] > 1e-6


@pytest.mark.parametrize("name", list(DEALS))
def test_breakevens_are_where_the_engine_crosses(pages, name):
    pack, page = pages[name]
    deal = waterfall.load_deal(DEALS[name])
    lock_up = deal.covenants.lock_up_dscr
    shown = {k: (fmt, data) for k, fmt, data, _ in numbers(page.read_text())}
    reached = 0
    for b in pack.breakevens:
        assert b.key in shown
        if b.value is None or b.at_base:
            continue
        reached += 1
        step = 2e-4 * (2000.0 if b.unit == "bp" else 1.0)
        # the stress grows with a haircut or a shock, and as the re-let rate falls
        safe = b.value + step if b.key.startswith("be.relet_rate") else b.value - step
        assert _crosses(deal, b.key, b.value, lock_up), b
        assert not _crosses(deal, b.key, safe, lock_up), b
        assert float(shown[b.key][1]) == b.value
    assert reached >= 4


def test_tieout_breakevens_by_hand():
    """Tie-out deal: rent 40 a quarter less 3 of costs against debt service 28 at the
    minimum (min DSCR 37/28): lock-up at 1.20x when 40(1-h) - 3 = 1.2 x 28, h = 0.085;
    DSCR 1.0x, where cash no longer meets debt service, at 40(1-h) - 3 = 28, h = 0.225."""
    pack = build_pack(DEALS["tieout"])
    got = {b.key: b.value for b in pack.breakevens}
    assert got["be.rent_haircut.lock_up"] == pytest.approx(0.085, abs=1e-5)
    assert got["be.rent_haircut.default"] == pytest.approx(0.225, abs=1e-5)
    assert got["be.rate_shock.senior"] is None  # fixed-rate senior: a base-rate shock does not reach it


def test_sources_equal_uses_for_every_builtin_deal():
    from waterfall.load import builtin_deals
    from waterfall.report.figures import sources_and_uses
    for path in builtin_deals():
        deal = waterfall.load_deal(path)
        su = sources_and_uses(waterfall.run(deal), deal.timeline.construction_periods)
        assert su.total_sources == pytest.approx(su.total_uses, rel=1e-12), path.stem
        assert su.total_sources > 0


# --------------------------------------------------------------------------- CLI and PDF

@needs_chromium
def test_cli_writes_a_pdf(tmp_path, capsys):
    from pypdf import PdfReader
    out = tmp_path / "tieout.pdf"
    assert main(["report", str(DEALS["tieout"]), "--scenario", "tenant-half-pay", "--out", str(out)]) == 0
    reader = PdfReader(out)
    assert len(reader.pages) == 1     # a one-page pack
    text = "".join(p.extract_text() for p in reader.pages)
    assert "credit committee pack" in text and "tenant-half-pay" in text


@needs_chromium
@pytest.mark.parametrize("deal", ["abilene", "project_jupiter"])
def test_a_deal_with_many_terms_still_prints_on_one_a4_page(deal, tmp_path):
    # Abilene's pack ran to two pages before the print layout was fitted (the presets and
    # the recovery basis spilled over); Jupiter has the most tranches' terms
    from pypdf import PdfReader
    out = tmp_path / f"{deal}.pdf"
    assert main(["report", deal, "--out", str(out), "--quiet"]) == 0
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (297, 210)   # A4 landscape, mm
    text = reader.pages[0].extract_text()
    assert "Stress presets" in text and "Recovery and its basis" in text   # the last blocks made it


def test_cli_pdf_without_chromium_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on PATH
    out = tmp_path / "x.pdf"
    assert main(["report", str(DEALS["tieout"]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Chromium" in err and "apt-get install -y chromium" in err and not out.exists()


def test_cli_refuses_other_extensions_and_bad_deals(tmp_path, capsys):
    assert main(["report", str(DEALS["tieout"]), "--out", str(tmp_path / "x.docx")]) == 2
    assert ".html or .pdf" in capsys.readouterr().err
    assert main(["report", "no-such-deal", "--out", str(tmp_path / "x.html")]) == 2
    assert main(["report", str(DEALS["tieout"]), "--scenario", "nope", "--out", str(tmp_path / "x.html")]) == 2
    assert not list(tmp_path.iterdir())


def test_html_is_self_contained_and_escapes_deal_text(tmp_path):
    deal = waterfall.load_deal(DEALS["tieout"])
    info = deal.deal.model_copy(update={"description": "<script>alert(1)</script> Evil & co."})
    pack = build_pack(deal.model_copy(update={"deal": info}))
    html = write_report(pack, tmp_path / "t.html").read_text()
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "src=" not in html and "@import" not in html and "url(" not in html
    assert np.isfinite([float(d) for _, _, d, _ in numbers(html) if d]).all()
