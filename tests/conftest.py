"""Settings of the whole test session.

The live comparisons against torch.optim and optax (``test_live_libs.py``) draw their
configurations from ``OPTANALYSIS_LIVE_SEED``: fresh each session unless set, so that every run (CI
included) checks configurations no earlier run chose, and printed at the end of the session, so
that a failure can be replayed with the same draw.

Tests that register rules of their own (user files, study rules, the docs' examples) must not
change what later tests see as the registered rules: the registry is restored after each test.
"""
import os
import secrets

import pytest

LIVE_SEED = os.environ.setdefault("OPTANALYSIS_LIVE_SEED", str(secrets.randbits(32)))


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"live comparisons drew their configurations with OPTANALYSIS_LIVE_SEED={LIVE_SEED} "
                                "(set it to replay this draw)")


@pytest.fixture(autouse=True)
def _rule_registry_restored():
    from optanalysis.rules import RULES

    before = dict(RULES)
    yield
    if RULES != before:
        RULES.clear()
        RULES.update(before)
