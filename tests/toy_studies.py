"""Toy studies for the runner's tests: written into a temporary directory, run as the packaged
studies are (``TITLE``, ``EXPECTED``, ``run(quick)``, ``plot(result)``)."""

TEMPLATE = '''"""Claim: a toy claim for the runner's tests."""
import matplotlib

from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.studies import StudyResult

TITLE = "toy"
EXPECTED = {{"b": "fail"}}
SEEN = {{}}  # what plot() saw: the runner must call it inside the package style


def run(quick=False):
    {crash}
    return StudyResult([Record.judge("gd", "constant", {{"lr": 0.1}}, "a", 1.0, 1.0, 0.0),
                        Record.judge("gd", "constant", {{"lr": 0.1}}, "b", 1.0, {b}, 0.0)],
                       {{"curve": [1.0, float("nan")]}}, {{"seed": 3, "quick": "clash"}})


def plot(result):
    SEEN["linewidth"] = matplotlib.rcParams["lines.linewidth"]
    fig, ax = figure()
    ax.plot(result.data["curve"])
    return fig
'''


def write_toy_study(directory, name, *, b=2.0, crash=None):
    """``<directory>/<name>.py``: record ``a`` passes; ``b`` fails as expected when ``b != 1``
    and passes (an unexpected verdict) when ``b == 1``; ``crash`` is an exception raised by run."""
    directory.mkdir(parents=True, exist_ok=True)
    body = f"raise {crash}" if crash else "pass"
    (directory / f"{name}.py").write_text(TEMPLATE.format(b=b, crash=body))
