"""Dotted paths to the numeric inputs a sweep varies.

Deal paths walk the deal's parts: `tranches.senior.rate.spread`, `leases.0.annual_rent`,
`covenants.lock_up_dscr` (list items by index or by name: a part's `name`, a lease's
`tenant`, an asset's `name`). Scenario paths start with `scenario.`:
`scenario.<kind>.<field>` is the first adjustment of that kind in the sweep's scenario
(one is added when the scenario has none), `scenario.adjustments.<i>.<field>` one by index.
"""
from __future__ import annotations

import typing
from dataclasses import dataclass

from pydantic import BaseModel

from ..model.deal import Deal
from ..model.scenario import (AssetValueMultiplier, OpexMultiplier, RateShock, RentMultiplier,
                              Scenario, TenantDefault)

# Scenario adjustment kinds whose numeric fields can vary (rate_path is a table, not a number).
SCENARIO_KINDS = {
    "rent_multiplier": RentMultiplier,
    "tenant_default": TenantDefault,
    "rate_shock": RateShock,
    "opex_multiplier": OpexMultiplier,
    "asset_value_multiplier": AssetValueMultiplier,
}
PERIOD_FIELDS = ("period", "from_period", "to_period")


class PathError(ValueError):
    """A path to vary that does not name a numeric input, or values it cannot take.
    `path` is the path as given (the command line adds its --vary flag)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class VaryPath:
    raw: str                      # as the user wrote it (the output column name)
    side: str                     # "deal" or "scenario"
    keys: tuple                   # deal: concrete keys into model_dump(); scenario: (adj index, field)
    is_int: bool
    low: float | None             # bounds from the schema (inclusive unless *_open)
    high: float | None
    low_open: bool = False
    high_open: bool = False
    kind: str | None = None       # scenario adjustment kind
    new_adjustment: bool = False  # the scenario has no such adjustment: one is appended

    def check(self, values) -> list:
        """The values (iterable) that break the schema's bounds."""
        bad = []
        for v in values:
            if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
                bad.append(v)
            elif self.high is not None and (v > self.high or (self.high_open and v == self.high)):
                bad.append(v)
            elif self.is_int and float(v) != int(v):
                bad.append(v)
        return bad


def _numeric_kind(annotation) -> str | None:
    """'int', 'float' or None for a field annotation (through Optional/Annotated)."""
    if annotation is bool:
        return None
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _numeric_kind(typing.get_args(annotation)[0])
    if origin is typing.Union or str(origin) == "types.UnionType":
        kinds = {_numeric_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        kinds.discard(None)
        if kinds:
            return "float" if "float" in kinds else "int"
    return None


def _bounds(field_info) -> tuple:
    """(low, high, low_open, high_open) from a pydantic field's constraints, nested too."""
    low = high = None
    low_open = high_open = False
    stack = list(field_info.metadata) + [field_info.annotation]
    seen = 0
    while stack and seen < 200:
        seen += 1
        item = stack.pop()
        if typing.get_origin(item) is not None:
            stack.extend(typing.get_args(item))
            continue
        for attr in ("metadata",):
            if hasattr(item, attr) and isinstance(getattr(item, attr), list):
                stack.extend(getattr(item, attr))
        if getattr(item, "ge", None) is not None:
            low, low_open = float(item.ge), False
        if getattr(item, "gt", None) is not None:
            low, low_open = float(item.gt), True
        if getattr(item, "le", None) is not None:
            high, high_open = float(item.le), False
        if getattr(item, "lt", None) is not None:
            high, high_open = float(item.lt), True
    return low, high, low_open, high_open


def _item_label(item) -> str | None:
    for attr in ("name", "tenant"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return None


def resolve(path: str, deal: Deal, scenario: Scenario) -> VaryPath:
    if not isinstance(path, str) or not path.strip():
        raise PathError(str(path), "empty path")
    parts = path.strip().split(".")
    if parts[0] == "scenario":
        return _resolve_scenario(path, parts[1:], deal, scenario)
    return _resolve_deal(path, parts, deal)


def _resolve_deal(path: str, parts: list[str], deal: Deal) -> VaryPath:
    obj, keys, field_info, where = deal, [], None, "the deal"
    for i, part in enumerate(parts):
        if isinstance(obj, BaseModel):
            fields = type(obj).model_fields
            if part not in fields or part == "provenance":
                known = ", ".join(f for f in fields if f != "provenance")
                raise PathError(path, f"no field '{part}' in {where} (known: {known})")
            field_info = fields[part]
            obj = getattr(obj, part)
            keys.append(part)
        elif isinstance(obj, (list, tuple)):
            index = None
            if part.lstrip("-").isdigit():
                index = int(part)
                if not -len(obj) <= index < len(obj):
                    raise PathError(path, f"index {part} is out of range: {where} has {len(obj)} items")
                index %= len(obj)
            else:
                labels = [_item_label(item) for item in obj]
                if part not in labels:
                    shown = ", ".join(str(x) for x in labels if x) or "items have no names; use an index"
                    raise PathError(path, f"no item named '{part}' in {where} (known: {shown})")
                index = labels.index(part)
            obj = obj[index]
            keys.append(index)
            field_info = None if not isinstance(obj, BaseModel) else field_info
        else:
            raise PathError(path, f"{where} is a number, it has no '{part}'")
        where = ".".join(parts[: i + 1])
    if isinstance(obj, bool) or not (isinstance(obj, (int, float)) or obj is None):
        raise PathError(path, f"{where} is not a number (it is {type(obj).__name__})")
    if obj is None:
        kind = _numeric_kind(field_info.annotation) if field_info is not None else None
        if kind is None:
            raise PathError(path, f"{where} is not a numeric field")
        is_int = kind == "int"
    else:
        is_int = isinstance(obj, int)
    low, high, lo_open, hi_open = _bounds(field_info) if field_info is not None and isinstance(keys[-1], str) \
        else (None, None, False, False)
    return VaryPath(path, "deal", tuple(keys), is_int, low, high, lo_open, hi_open)


def _resolve_scenario(path: str, parts: list[str], deal: Deal, scenario: Scenario) -> VaryPath:
    kinds = ", ".join(SCENARIO_KINDS)
    if len(parts) < 2:
        raise PathError(path, f"a scenario path is scenario.<kind>.<field> (kinds: {kinds}) "
                              "or scenario.adjustments.<i>.<field>")
    adjustments = scenario.adjustments
    new = False
    if parts[0] == "adjustments":
        if len(parts) != 3 or not parts[1].isdigit():
            raise PathError(path, "expected scenario.adjustments.<index>.<field>")
        index = int(parts[1])
        if index >= len(adjustments):
            raise PathError(path, f"scenario '{scenario.name}' has {len(adjustments)} adjustments")
        kind = adjustments[index].kind
        if kind not in SCENARIO_KINDS:
            raise PathError(path, f"a {kind} adjustment has no numeric field to vary")
        field = parts[2]
    else:
        if len(parts) != 2:
            raise PathError(path, "expected scenario.<kind>.<field>")
        kind, field = parts
        if kind not in SCENARIO_KINDS:
            raise PathError(path, f"unknown adjustment kind '{kind}' (kinds: {kinds})")
        found = [j for j, a in enumerate(adjustments) if a.kind == kind]
        index, new = (found[0], False) if found else (len(adjustments), True)
    model = SCENARIO_KINDS[kind]
    fields = {k: v for k, v in model.model_fields.items()
              if k not in ("kind", "provenance", "component") and _numeric_kind(v.annotation)}
    if field not in fields:
        raise PathError(path, f"no numeric field '{field}' in a {kind} adjustment "
                              f"(known: {', '.join(fields)})")
    info = fields[field]
    low, high, lo_open, hi_open = _bounds(info)
    if field in PERIOD_FIELDS:
        n = deal.timeline.n_periods
        high = float(n) if high is None else min(high, float(n))
    return VaryPath(path, "scenario", (index, field), _numeric_kind(info.annotation) == "int",
                    low, high, lo_open, hi_open, kind=kind, new_adjustment=new)


def required_fields(kind: str) -> list[str]:
    model = SCENARIO_KINDS[kind]
    return [k for k, v in model.model_fields.items() if v.is_required() and k != "kind"]
