"""Atomic file writing and safe text for cells."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")


def needs_escape(text: str) -> bool:
    """Would a spreadsheet read this text as a formula if it were typed in?"""
    return str(text).lstrip(" ").startswith(FORMULA_LEADS)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ""):
    """Yield a temporary path next to `path`; on success rename it onto `path`, on
    failure remove it. A failure never leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes it 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
