"""Toy studies for the runner's tests: written into a temporary directory, run as the packaged
studies are (``TITLE``, ``EXPECTED``, ``HOOKS``, ``run(quick, perturb)``, ``plot(result)``)."""

TEMPLATE = '''"""Claim: a toy claim for the runner's tests."""
import matplotlib

from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.studies import StudyResult, Theory, expect, exploratory

TITLE = "toy"
EXPECTED = {expected}
HOOKS = {{"one": "the value record b is judged against"}}
SEEN = {{}}  # what plot() saw: the runner must call it inside the package style


def run(quick=False, perturb=None):
    theory = Theory(HOOKS, perturb)
    {crash}
    return StudyResult({records}, {{"curve": [1.0, float("nan")]}}, {{"seed": 3, "quick": "clash"}})


def plot(result):
    SEEN["linewidth"] = matplotlib.rcParams["lines.linewidth"]
    fig, ax = figure()
    ax.plot(result.data["curve"])
    return fig
'''

EXPECTED = '{"a": expect("pass", "1 = 1"), "b": expect("fail", "b is not 1 (toy theory)")}'
RECORDS = '''[Record.judge("gd", "constant", {{"lr": 0.1}}, "a", 1.0, 1.0, 0.0),
                        Record.judge("gd", "constant", {{"lr": 0.1}}, "b", theory("one", 1.0), {b}, 0.0)]'''


def write_toy_study(directory, name, *, b=2.0, crash=None, expected=EXPECTED, records=RECORDS):
    """``<directory>/<name>.py``: record ``a`` passes; ``b`` fails as expected when ``b != 1``
    and passes (an unexpected verdict) when ``b == 1``; ``crash`` is an exception raised by run;
    ``expected`` and ``records`` replace the study's ``EXPECTED`` and records (source text)."""
    directory.mkdir(parents=True, exist_ok=True)
    body = f"raise {crash}" if crash else "pass"
    (directory / f"{name}.py").write_text(TEMPLATE.format(expected=expected, crash=body,
                                                          records=records.format(b=b)))
