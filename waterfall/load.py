"""Deal and scenario files -> validated models. Every error names the file, the field
path and the bad value; nothing in a file is ever evaluated as code.

A file is parsed as plain data (``tomllib`` / ``json``: no expressions, no includes),
checked for NaN/inf, then validated strictly: a string, a boolean or a fractional
number where a number or a whole number belongs is an error, never coerced."""
from __future__ import annotations

from .paths import data_dir

import datetime as dt
import json
import math
import re
import tomllib
import weakref
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from .checks import check_deal, check_scenario
from .errors import NO_VALUE, DealError, UnknownNameError
from .model.deal import Deal
from .model.scenario import Scenario

DEALS_DIR = data_dir("deals")

Problem = tuple[str, str, object]


class _JSONObject(dict):
    """A JSON object that remembers keys given more than once (json keeps the last)."""

    duplicates: list[tuple[str, list]]


def _json_object(pairs: list[tuple[str, Any]]) -> _JSONObject:
    obj = _JSONObject()
    seen: dict[str, list] = {}
    for key, value in pairs:
        seen.setdefault(key, []).append(value)
        obj[key] = value
    obj.duplicates = [(k, v) for k, v in seen.items() if len(v) > 1]
    return obj


MAX_FILE_BYTES = 8 * 2**20   # a deal file is a few KB; the largest built-in is under 100 KB
MAX_DEPTH = 24               # tables and lists nested in each other (the built-in deals: 7)
MAX_ITEMS = 100_000          # items in any one list (points, shares, steps...)
COUNT_LIMITS = {"tranches": 200, "accounts": 200, "fees": 200, "assets": 1000, "leases": 1000,
                "opex": 1000, "waterfall": 1000, "scenarios": 1000, "adjustments": 1000}
"""How many parts of each kind a deal (or scenario) may have: far above any real deal,
low enough that every check and the compile stay fast."""


def _shape_problems(data: Any) -> list[Problem]:
    """Nesting deeper than MAX_DEPTH, a list longer than MAX_ITEMS, more parts of a kind
    than COUNT_LIMITS allows: found without recursion (so any depth is safe to walk)."""
    problems: list[Problem] = []
    stack = [(data, "", 0, "")]
    while stack and len(problems) < 20:
        here, path, depth, key = stack.pop()
        if depth > MAX_DEPTH:
            problems.append((path, f"nested too deeply (at most {MAX_DEPTH} levels of tables and lists)", NO_VALUE))
            continue
        if isinstance(here, dict):
            stack += [(v, _join(path, k), depth + 1, str(k)) for k, v in reversed(list(here.items()))]
        elif isinstance(here, list):
            limit = COUNT_LIMITS.get(key, MAX_ITEMS)
            if len(here) > limit:
                problems.append((path, f"{len(here):,} items; at most {limit:,}", NO_VALUE))
                continue
            stack += [(v, f"{path}[{i}]", depth + 1, "") for i, v in reversed(list(enumerate(here)))]
    return problems


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a TOML or JSON file into plain data (no code is executed)."""
    path = Path(path)
    is_json = path.suffix.lower() == ".json"
    kind = "JSON" if is_json else "TOML"
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DealError(str(path), [("", f"the file is {size:,} bytes; a deal or scenario file may have "
                                             f"at most {MAX_FILE_BYTES:,}", NO_VALUE)])
        raw = path.read_bytes()
    except OSError as exc:
        raise DealError(str(path), [("", f"cannot read the file: {exc.strerror or exc}", NO_VALUE)]) from None
    try:
        text = raw.decode("utf-8-sig")   # a byte-order mark, as some editors write, is not content
    except UnicodeDecodeError as exc:
        raise DealError(str(path), [("", f"not valid {kind}: not UTF-8 text (byte {exc.start})", NO_VALUE)]) from None
    try:
        if is_json:
            # NaN/Infinity are kept as floats here so that the non-finite check below
            # can name their field path.
            data = json.loads(text, parse_constant=float, object_pairs_hook=_json_object)
        else:
            data = tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise DealError(str(path), [(f"line {exc.lineno}, column {exc.colno}",
                                     f"not valid JSON: {exc.msg}", NO_VALUE)]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\s*\(at (line \d+, column \d+|end of document)\)$", message)
        field = where.group(1) if where else ""
        message = message[: where.start()] if where else message
        raise DealError(str(path), [(field, f"not valid TOML: {message}", NO_VALUE)]) from None
    except RecursionError:
        raise DealError(str(path), [("", f"not valid {kind}: nested too deeply (at most {MAX_DEPTH} levels "
                                         "of tables and lists)", NO_VALUE)]) from None
    except ValueError as exc:
        raise DealError(str(path), [("", f"not valid {kind}: {exc}", NO_VALUE)]) from None
    if not isinstance(data, dict):
        raise DealError(str(path), [("", f"the document must be a {'JSON object' if is_json else 'TOML table'}",
                                     type(data).__name__)])
    shape = _shape_problems(data)
    if shape:
        raise DealError(str(path), shape)
    duplicates = _duplicate_keys(data)
    if duplicates:
        raise DealError(str(path), duplicates)
    return data


def _duplicate_keys(data: Any, path: str = "") -> list[Problem]:
    found: list[Problem] = []
    if isinstance(data, dict):
        for key, values in getattr(data, "duplicates", []):
            found.append((_join(path, key), f"given {len(values)} times", values))
        for key, value in data.items():
            found += _duplicate_keys(value, _join(path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _duplicate_keys(value, f"{path}[{i}]")
    return found


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _join(path: str, key: object) -> str:
    """`path.key`, or `path["odd key"]` for a key that is not a plain name."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = str(key)
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


# Parts of a pydantic error location that are not fields in the file: validator
# names and the member names of a union.
_NOT_A_FIELD = ("function-", "tagged-union[", "tuple[", "list[", "literal[", "union[", "dict[",
                "nullable[", "json-or-python[")


def _locate(loc: tuple, data: Any) -> tuple[str, Any]:
    """The field path of an error location in the file, and the data found there.

    The raw data is walked alongside the location, so a discriminator tag of a union
    (e.g. `fixed` in tranches[0].rate) is told apart from a field of the same name."""
    path, here, found = "", data, True
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(part, int):
            path = _join(path, part)
            if found and isinstance(here, list) and -len(here) <= part < len(here):
                here = here[part]
            else:
                found = False
            continue
        part = str(part)
        if found and isinstance(here, dict) and part in here:
            path, here = _join(path, part), here[part]
            continue
        if part.startswith(_NOT_A_FIELD) or (found and isinstance(here, dict) and not last):
            continue  # a union member or a validator, not a key in the file
        path, found = _join(path, part), False
    return path, (here if found else NO_VALUE)


_PROVENANCE = re.compile(r"^provenance names '([^']*)'")


def _problems(exc: ValidationError, data: Any, root: type[BaseModel]) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        path, value = _locate(err["loc"], data)
        whole_table = isinstance(value, dict)
        kind = err["type"]
        message = _readable_numbers(err["msg"].removeprefix("Value error, "))
        ctx = err.get("ctx") or {}
        if kind == "missing":
            message, value = "required field is missing", NO_VALUE
        elif kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "union_tag_invalid":
            path = _join(path, str(ctx.get("discriminator", "kind")).strip("'"))
            message = f"unknown kind; expected one of {ctx.get('expected_tags')}"
            value, whole_table = ctx.get("tag", NO_VALUE), False
        elif kind == "union_tag_not_found":
            path = _join(path, str(ctx.get("discriminator", "kind")).strip("'"))
            message = "required field is missing (it says which kind this is)"
            value, whole_table = NO_VALUE, False
        elif kind == "value_error" and isinstance(value, dict):
            # A check across the fields of one part: name the field it is about.
            match = _PROVENANCE.match(message)
            if match:
                path, value = _join(_join(path, "provenance"), match.group(1)), match.group(1)
                whole_table = False
            else:
                field = _field_named_in(message, _fields_at(root, err["loc"]))
                if field is not None:
                    path, value = _join(path, field), value.get(field, NO_VALUE)
                    whole_table = False
        if whole_table:
            value = NO_VALUE  # a whole table says nothing its path does not
        problems.append((path, message, value))
    return _merge_union_branches(problems)


def _readable_numbers(message: str) -> str:
    """'less than or equal to 1000000000000' as '... to 1e+12'."""
    return re.sub(r"(?<![\w.])(\d{8,})(?![\w.])", lambda m: f"{int(m.group()):.6g}", message)


def _models_in(annotation: Any) -> set[type[BaseModel]]:
    """The models an annotation can hold (through Optional, Union, list, dict, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    found: set[type[BaseModel]] = set()
    for arg in get_args(annotation):
        found |= _models_in(arg)
    return found


def _fields_at(root: type[BaseModel], loc: tuple) -> set[str]:
    """Names of the fields of the part(s) at an error location."""
    here = {root}
    for part in loc:
        if isinstance(part, int):
            continue
        inner = set()
        for model in here:
            if part in model.model_fields:
                inner |= _models_in(model.model_fields[part].annotation)
        if inner:
            here = inner
    return {name for model in here for name in model.model_fields} - {"provenance"}


def _field_named_in(message: str, fields: set[str]) -> str | None:
    """The first field the message names (`lender shares must add up to 1` is about
    `lenders`, `custom amortisation needs shares` about `shares`)."""
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message):
        for name in (word, word + "s"):
            if name in fields:
                return name
    return None


def _merge_union_branches(problems: list[Problem]) -> list[Problem]:
    """A value that matches no member of a union gives one error per member, all at the
    same path: report them as one line."""
    merged: list[Problem] = []
    for path, message, value in problems:
        if merged and merged[-1][0] == path and _same(merged[-1][2], value):
            prev = merged[-1]
            merged[-1] = (path, f"{prev[1]}; or {message[:1].lower()}{message[1:]}", prev[2])
        else:
            merged.append((path, message, value))
    return merged


def _same(a: object, b: object) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:
        return False


_MAX_INT = 2**53  # an integer beyond this is no amount or period (and overflows an array)


def _no_nonfinite(data: Any, path: str = "") -> tuple[Any, list[Problem]]:
    """TOML allows nan and inf literals (and JSON readers NaN/Infinity); no amount,
    rate or period may be one, nor an integer too large for a float or an array index. Returns the data with each of them replaced by None
    (so the rest can still be validated) and a problem for each."""
    if isinstance(data, float) and not math.isfinite(data):
        return None, [(path, "must be a finite number (NaN and inf are not allowed)", data)]
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) > _MAX_INT:
        return None, [(path, f"number is too large (at most {_MAX_INT:.3g} in size)", data)]
    if isinstance(data, dict):
        found: list[Problem] = []
        out = {}
        for k, v in data.items():
            out[k], more = _no_nonfinite(v, _join(path, k))
            found += more
        return (out if found else data), found
    if isinstance(data, list):
        found, out = [], []
        for i, v in enumerate(data):
            item, more = _no_nonfinite(v, f"{path}[{i}]")
            out.append(item)
            found += more
        return (out if found else data), found
    return data, []


def _plain(value: Any):
    """JSON form of TOML dates and times (validated as ISO strings)."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def validate(model, data: dict, source: str):
    """Validate strictly: no string, boolean or fractional number is coerced into a
    number or a whole number. Data that is not plain (API callers passing objects)
    is validated as Python values instead. Every problem is reported at once."""
    shape = _shape_problems(data)
    if shape:
        raise DealError(source, shape)
    clean, problems = _no_nonfinite(data)
    try:
        try:
            text = json.dumps(clean, default=_plain, allow_nan=False)
        except (TypeError, ValueError):
            result = model.model_validate(clean)
        else:
            result = model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        reported = {p for p, _, _ in problems}
        problems += [p for p in _problems(exc, clean, model) if p[0] not in reported]
    except RecursionError:
        problems.append(("", "nested too deeply", NO_VALUE))
    if problems:
        raise DealError(source, problems) from None
    return result


_SOURCES: dict[int, tuple[weakref.ref, str]] = {}


def remember_source(deal: Deal, source: str) -> Deal:
    """Record the file a deal came from, so that an error found later (a structural
    scenario that makes it invalid, an overflow) names the file."""
    key = id(deal)
    _SOURCES[key] = (weakref.ref(deal, lambda _, key=key: _SOURCES.pop(key, None)), str(source))
    return deal


def source_of(deal: Deal, default: str = "<deal>") -> str:
    """The file `deal` was loaded from (or `default` for a deal built in code)."""
    entry = _SOURCES.get(id(deal))
    return entry[1] if entry is not None and entry[0]() is deal else default


def deal_from_data(data: dict, source: str = "<deal>") -> Deal:
    """Validate and check a deal given as plain data (as read from a file)."""
    deal = validate(Deal, data, source)
    problems = check_deal(deal)
    if problems:
        raise DealError(source, problems)
    return remember_source(deal, source)


def load_deal(path: str | Path) -> Deal:
    """Load and check a deal file (TOML or JSON)."""
    path = resolve_deal_path(path)
    return deal_from_data(read_document(path), str(path))


def load_scenario(path: str | Path, deal: Deal | None = None) -> Scenario:
    """Load a scenario file: a table with name, description and [[adjustments]].
    Given the deal it is for, its periods are also checked against the deal's horizon."""
    scenario = validate(Scenario, read_document(path), str(path))
    if deal is not None:
        problems = check_scenario(scenario, deal.timeline.n_periods)
        if problems:
            raise DealError(str(path), problems)
    return scenario


def resolve_deal_path(path: str | Path) -> Path:
    """A path as given, or the name of a built-in deal (e.g. 'tieout'). A bare name
    (no folder, no .toml/.json) that is neither raises UnknownNameError naming the
    built-in deals; a path that does not exist is returned as given (reading it then
    says so)."""
    candidate = Path(path)
    if candidate.exists():
        return candidate
    for found in sorted(DEALS_DIR.rglob("*.toml")):
        if found.stem == str(path):
            return found
    from .suggest import did_you_mean

    names = sorted(p.stem for p in builtin_deals())
    if isinstance(path, str) and candidate.suffix.lower() not in (".toml", ".json") \
            and len(candidate.parts) == 1:
        hint = did_you_mean(str(path), names)
        raise UnknownNameError(str(path), "", f"no deal file and no built-in deal of that name "
                                              f"(built-in: {', '.join(names)}){'; ' + hint if hint else ''}",
                               NO_VALUE)
    if not candidate.exists() and candidate.suffix.lower() in (".toml", ".json"):
        nearby = {p.stem: p.name for p in candidate.parent.glob("*") if p.suffix.lower() in (".toml", ".json")} \
            if candidate.parent.is_dir() else {}
        from .suggest import close_matches
        near = [nearby[m] for m in close_matches(candidate.stem, nearby)]
        hint = ("did you mean " + " or ".join(f"'{candidate.parent / m}'" for m in near) + "?") if near \
            else did_you_mean(candidate.stem, names)
        if hint:  # a near miss: say which file was meant (otherwise reading it says it is missing)
            raise UnknownNameError(str(path), "", f"no such deal file; {hint}", NO_VALUE)
    return candidate


def builtin_deals() -> list[Path]:
    return sorted(p for p in DEALS_DIR.rglob("*.toml") if "bad" not in p.parts)
