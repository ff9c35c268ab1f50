"""docs/write_your_own_rule.md runs as written: its file block is saved, its Python blocks run in
order in one namespace, its shell commands run (``optanalysis`` as ``python -m optanalysis``), all
in a fresh directory."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from optanalysis.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "write_your_own_rule.md"
BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


def blocks():
    return [(m["file"], m["lang"], m["body"]) for m in BLOCK.finditer(PAGE.read_text())]


def test_page_has_a_file_code_and_commands():
    kinds = [(f is not None, lang) for f, lang, _ in blocks()]
    assert (True, "python") in kinds and (False, "python") in kinds and (False, "bash") in kinds


def test_page_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = dict(RULES)
    namespace = {"__name__": "write_your_own_rule"}
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    try:
        for file, lang, body in blocks():
            if file:
                (tmp_path / file).write_text(body)
            elif lang == "python":
                exec(compile(body, str(PAGE), "exec"), namespace)
            elif lang == "bash":
                for line in body.splitlines():
                    args = shlex.split(line, comments=True)
                    assert args[0] == "optanalysis", line
                    done = subprocess.run([sys.executable, "-m", "optanalysis", *args[1:]], cwd=tmp_path,
                                          capture_output=True, text=True, env=env)
                    assert done.returncode == 0, (line, done.stderr)
    finally:
        for name in set(RULES) - set(before):
            del RULES[name]
    out = capsys.readouterr().out
    assert "averaged_heavy_ball ('x', 'x_prev', 'y')" in out
    assert "rule 'bad_rule'" in out and "use ops.where" in out
