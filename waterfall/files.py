"""Atomic file writing: every output (CSV, workbooks, charts, sweep tables) appears
whole or not at all. An output that cannot be written raises OutputError (an OSError
naming the path and the reason), which the command line reports as bad input."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import OutputError


@contextlib.contextmanager
def writing(path: str | Path):
    """Turn an OSError raised while writing `path` into an OutputError naming it."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from exc


def make_dirs(path: str | Path) -> Path:
    """`path` and its parents as folders (OutputError if they cannot be made)."""
    path = Path(path)
    with writing(path):
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ""):
    """Yield a temporary path next to `path`; on success rename it onto `path`, on
    failure remove it. A failure never leaves a half-written file behind; an OSError
    while writing becomes an OutputError naming `path`."""
    path = Path(path)
    make_dirs(path.parent)
    with writing(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
        os.close(fd)
    try:
        with writing(path):
            yield Path(tmp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes it 0600; give it a normal file's mode
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to `path` (parent folders created) atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
