"""Deal and scenario files -> validated models. Every error names the file, the field
path and the bad value; nothing in a file is ever evaluated as code."""
from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .checks import check_deal
from .errors import _NO_VALUE, DealError
from .model.deal import Deal
from .model.scenario import Scenario

DEALS_DIR = Path(__file__).resolve().parent.parent / "deals"


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a TOML or JSON file into plain data (no code is executed)."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise DealError(str(path), [("", f"cannot read file: {exc.strerror}", _NO_VALUE)]) from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text, parse_constant=_reject_constant)
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise DealError(str(path), [("", f"not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}", _NO_VALUE)]) from None
    if not isinstance(data, dict):
        raise DealError(str(path), [("", "the document must be a table/object", type(data).__name__)])
    return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("fixed", "floating", "rent_multiplier", "tenant_default", "rate_shock",
                      "rate_path", "opex_multiplier", "asset_value_multiplier") or str(part).startswith(("function-", "tagged-union", "tuple[", "list[", "literal[", "union[")):
            continue  # discriminator and validator names are not fields in the file
        else:
            out += ("." if out else "") + str(part)
    return out


def _problems(exc: ValidationError) -> list[tuple[str, str, object]]:
    problems = []
    for err in exc.errors(include_url=False):
        value = err.get("input", _NO_VALUE)
        if isinstance(value, dict):
            value = _NO_VALUE
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field is missing"
            value = _NO_VALUE
        elif err["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append((_field_path(err["loc"]), message, value))
    return problems


def _no_nonfinite(data: Any, path: str = "") -> list[tuple[str, str, object]]:
    """TOML allows nan and inf literals; no amount, rate or period may be one."""
    found = []
    if isinstance(data, float) and not math.isfinite(data):
        found.append((path, "must be a finite number (NaN and inf are not allowed)", data))
    elif isinstance(data, dict):
        for k, v in data.items():
            found += _no_nonfinite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += _no_nonfinite(v, f"{path}[{i}]")
    return found


def deal_from_data(data: dict, source: str = "<deal>") -> Deal:
    nonfinite = _no_nonfinite(data)
    if nonfinite:
        raise DealError(source, nonfinite)
    try:
        deal = Deal.model_validate(data)
    except ValidationError as exc:
        raise DealError(source, _problems(exc)) from None
    problems = check_deal(deal)
    if problems:
        raise DealError(source, problems)
    return deal


def load_deal(path: str | Path) -> Deal:
    """Load and check a deal file (TOML or JSON)."""
    path = resolve_deal_path(path)
    return deal_from_data(read_document(path), str(path))


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file: a table with name, description and [[adjustments]]."""
    data = read_document(path)
    nonfinite = _no_nonfinite(data)
    if nonfinite:
        raise DealError(str(path), nonfinite)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise DealError(str(path), _problems(exc)) from None


def resolve_deal_path(path: str | Path) -> Path:
    """A path as given, or the name of a built-in deal (e.g. 'tieout')."""
    candidate = Path(path)
    if candidate.exists():
        return candidate
    for found in sorted(DEALS_DIR.rglob("*.toml")):
        if found.stem == str(path):
            return found
    return candidate


def builtin_deals() -> list[Path]:
    return sorted(p for p in DEALS_DIR.rglob("*.toml") if "bad" not in p.parts)
