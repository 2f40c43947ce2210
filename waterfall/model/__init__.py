"""The deal schema (pydantic v2): a deal and all its parts, as data."""
from .base import Source
from .deal import (
    Account,
    Asset,
    AssetComponent,
    BaseRateCurve,
    Covenants,
    Deal,
    Enforcement,
    Equity,
    Fee,
    Lease,
    Opex,
    Renewal,
    Step,
    Timeline,
    Tranche,
    ValueCurve,
)
from .scenario import Adjustment, Scenario

__all__ = [
    "Account", "Adjustment", "Asset", "AssetComponent", "BaseRateCurve", "Covenants", "Deal",
    "Enforcement", "Equity", "Fee", "Lease", "Opex", "Renewal", "Scenario", "Source", "Step",
    "Timeline", "Tranche", "ValueCurve",
]
