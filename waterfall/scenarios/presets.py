"""The stress presets: named scenario files in scenarios/presets/, portable across deals
(times in years or months since financial close) and carrying what they do to the
contagion chain. Each documents its assumptions: what it moves, by how much, from when."""
from __future__ import annotations

from ..paths import data_dir

from pathlib import Path

from ..errors import DealError
from ..model.scenario import Scenario

PRESETS_DIR = data_dir("scenarios") / "presets"
ORDER = ("technology-displaced", "slow-adoption", "key-customer-churn", "tenant-strategic-default",
         "delivery-failure", "rates-stay-high", "regulation")


def preset_paths() -> list[Path]:
    """Preset files, the seven of the source analysis first in its order."""
    found = {p.stem: p for p in PRESETS_DIR.glob("*.toml")}
    return [found[n] for n in ORDER if n in found] + sorted(p for n, p in found.items() if n not in ORDER)


def preset_names() -> list[str]:
    return [p.stem for p in preset_paths()]


def load_scenario_file(path: str | Path) -> Scenario:
    """A scenario or preset file, validated like a deal file (errors name file, field, value)."""
    from ..load import read_document, validate

    return validate(Scenario, read_document(path), str(path))


def load_preset(name: str | Path) -> Scenario:
    """A preset by name (e.g. 'rates-stay-high') or by path; 'base' is the empty scenario."""
    if str(name) == "base":
        return Scenario(name="base", description="The base case: every deal as contracted.")
    path = Path(name)
    if not path.exists():
        path = PRESETS_DIR / f"{name}.toml"
        if not path.exists():
            from ..suggest import did_you_mean
            hint = did_you_mean(str(name), ["base"] + preset_names())
            raise DealError(str(name), [("", f"no preset '{name}'{'; ' + hint if hint else ''} "
                                             f"(known: base, {', '.join(preset_names())})", str(name))])
    return load_scenario_file(path)
