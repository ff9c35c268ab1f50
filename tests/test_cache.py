"""One cache root for every on-disk cache, chosen by environment variables."""
from pathlib import Path

import pytest

from optanalysis.cache import KINDS, cache_dir


def test_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "own"
    monkeypatch.delenv("OPTANALYSIS_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "optanalysis"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "optanalysis"


def test_kinds_are_subdirectories_of_the_root(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path))
    assert {cache_dir(k) for k in KINDS} == {tmp_path / k for k in KINDS}
    assert not any(Path(tmp_path, k).exists() for k in KINDS)  # nothing is created by asking


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind must be None or one of kernels"):
        cache_dir("kernel")
