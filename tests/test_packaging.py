"""A wheel carries the built-in deals, presets and entity graph, and the package finds
them where a non-editable install puts them."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from waterfall import paths

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_the_data_files(tmp_path):
    env = dict(os.environ, WATERFALL_NO_EXT="1")  # a pure-Python wheel is enough to check the data
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, env=env, capture_output=True)
    wheel = next(tmp_path.glob("waterfall-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    data = [n for n in names if ".data/data/share/waterfall/" in n]
    for expected in ("deals/abilene.toml", "deals/examples/tieout.toml", "scenarios/entities.toml",
                     "scenarios/presets/slow-adoption.toml"):
        assert any(n.endswith("share/waterfall/" + expected) for n in data), expected
    assert not any(n.endswith(".c") for n in names)


def test_installed_data_dir_is_used_without_a_source_tree(tmp_path, monkeypatch):
    installed = tmp_path / "prefix" / "share" / "waterfall" / "deals"
    installed.mkdir(parents=True)
    monkeypatch.setattr(paths, "SOURCE_ROOT", tmp_path / "no-source-tree")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert paths.data_dir("deals") == installed
    monkeypatch.undo()
    assert paths.data_dir("deals") == ROOT / "deals"
