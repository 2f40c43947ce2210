"""Where the built-in data lives: `deals/` and `scenarios/` of the source tree (an
editable install), or `<prefix>/share/waterfall/` where a wheel installs them."""
from __future__ import annotations

import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The `deals` or `scenarios` folder: the source tree's if present, else the installed copy."""
    here = SOURCE_ROOT / name
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "waterfall" / name
