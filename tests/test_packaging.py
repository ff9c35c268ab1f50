"""What the wheel ships follows from pyproject.toml: every package directory is a package (the
studies among them), every data file matches a package-data pattern, one version, one entry point.
(.ci/run builds the wheel, lists it and runs it from a second venv outside the checkout.)"""
import fnmatch
import importlib
from pathlib import Path

import pytest

import optanalysis

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "optanalysis"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _files():
    return [p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def test_every_directory_with_python_files_is_a_package():
    # setuptools' find includes only directories with an __init__.py; another would be left out of the wheel
    dirs = {p.parent for p in _files() if p.suffix == ".py"}
    assert PACKAGE / "studies" in dirs
    assert [str(d.relative_to(ROOT)) for d in sorted(dirs) if not (d / "__init__.py").exists()] == []


def test_every_data_file_matches_a_package_data_pattern():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]

    def shipped(path):
        package = ".".join(path.parent.relative_to(ROOT).parts)
        return any(fnmatch.fnmatch(path.name, pattern) for pattern in data.get(package, []) + data.get("*", []))

    others = [p for p in _files() if p.suffix not in (".py", ".pyc")]
    assert PACKAGE / "optanalysis.mplstyle" in others
    assert [str(p.relative_to(ROOT)) for p in others if not shipped(p)] == []


def test_one_version():
    assert optanalysis.__version__ == PYPROJECT["project"]["version"]


def test_the_console_script_is_the_cli():
    module, _, name = PYPROJECT["project"]["scripts"]["optanalysis"].partition(":")
    from optanalysis.cli import main

    assert getattr(importlib.import_module(module), name) is main


def test_the_license_is_an_spdx_expression():
    # the table form ({text = ...}) is deprecated by setuptools; the string needs setuptools >= 77
    assert PYPROJECT["project"]["license"] == "MIT"
    assert any(r.replace(" ", "") == "setuptools>=77" for r in PYPROJECT["build-system"]["requires"])
