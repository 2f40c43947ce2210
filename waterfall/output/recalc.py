"""Recalculate a workbook headless in LibreOffice and save it as .xlsx.

LibreOffice keeps the values cached in an .xlsx unless its profile says to always
recalculate (OOXMLRecalcMode = 0), so each call uses a fresh profile directory with
that setting. A second soffice on the same profile exits 0 without writing anything,
so the output file is checked, not the exit status.

    soffice -env:UserInstallation=file:///tmp/<fresh> --headless --norestore \\
        --convert-to xlsx --outdir OUT IN.xlsx
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def command(src, outdir: Path, profile: Path, to: str = "xlsx") -> list[str]:
    """The soffice command line converting `src` (a path, or a list of paths) into `outdir`."""
    srcs = [src] if isinstance(src, (str, Path)) else list(src)
    return [soffice() or "soffice", f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless", "--norestore", "--convert-to", to, "--outdir", str(outdir), *map(str, srcs)]


def recalculate(src: str | Path, outdir: str | Path, to: str = "xlsx", timeout: float = 180) -> Path:
    """Open `src` in LibreOffice with a fresh always-recalculate profile, save it into
    `outdir` as `to` (xlsx, pdf, png ...), and return the written file."""
    return recalculate_many([src], outdir, to, timeout)[0]


def recalculate_many(srcs, outdir: str | Path, to: str = "xlsx", timeout: float = 300) -> list[Path]:
    """recalculate() for several workbooks in one LibreOffice start (they must have
    distinct file names): the written files, in the order of `srcs`."""
    srcs = [Path(s).resolve() for s in srcs]
    outdir = Path(outdir).resolve()
    if soffice() is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    if len({s.stem for s in srcs}) != len(srcs):
        raise ValueError("workbooks converted together need distinct names")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(REGISTRY)
        expected = [outdir / (src.stem + "." + to.split(":")[0]) for src in srcs]
        for src, out in zip(srcs, expected):
            if out.exists() and out != src:
                out.unlink()
        proc = subprocess.run(command(srcs, outdir, Path(profile), to), capture_output=True, text=True,
                              timeout=timeout)
        missing = [out.name for out in expected if not out.exists()]
        if missing:
            raise RuntimeError(f"LibreOffice wrote nothing for {', '.join(missing)} (exit {proc.returncode}): "
                               f"{proc.stdout.strip()} {proc.stderr.strip()}")
        return expected
