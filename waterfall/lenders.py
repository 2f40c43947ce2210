"""Canonical lender names: one bank, one name in every table.

Deal files name lenders as the sources do ("J.P. Morgan", "JPMorgan Chase",
"Mitsubishi UFJ"); the lender view adds up exposure by institution, so every alias
maps to one canonical name here. A name not listed is its own canonical name."""
from __future__ import annotations

ALIASES: dict[str, tuple[str, ...]] = {
    "JPMorgan": ("J.P. Morgan", "JP Morgan", "JPMorgan Chase", "JPMorgan Chase & Co.", "JPM",
                 "JPMorgan-led bank group"),
    "MUFG": ("Mitsubishi UFJ", "MUFG Bank", "Mitsubishi UFJ Financial Group"),
    "SMBC": ("Sumitomo Mitsui", "Sumitomo Mitsui Banking Corporation", "SMBC Group"),
    "Mizuho": ("Mizuho Bank", "Mizuho Financial Group"),
    "Goldman Sachs": ("GS", "Goldman"),
    "Morgan Stanley": ("MS",),
    "BNP Paribas": ("BNP",),
    "Societe Generale": ("Société Générale", "SocGen", "SG"),
    "Credit Agricole": ("Crédit Agricole", "CA", "Credit Agricole CIB"),
    "Wells Fargo": ("Wells",),
    "Bank of America": ("BofA", "BofA Securities"),
    "PIMCO": ("Pacific Investment Management",),
}
_TO_CANONICAL = {alias.casefold(): name for name, aliases in ALIASES.items() for alias in aliases}
_TO_CANONICAL.update({name.casefold(): name for name in ALIASES})


def canonical(name: str) -> str:
    """The one name the tables use for lender `name`."""
    return _TO_CANONICAL.get(name.strip().casefold(), name.strip())
