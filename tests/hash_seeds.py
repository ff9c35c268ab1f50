"""Run a snippet under several PYTHONHASHSEEDs: what ends up in figures/ must not depend on the
iteration order of sets (of sympy symbols, ...), which follows the hash seed."""
import json
import os
import subprocess
import sys


def json_under_hash_seeds(code: str, seeds=("1", "2", "3", "4")) -> list:
    """The JSON that ``code`` prints, from a fresh interpreter per hash seed."""
    return [json.loads(subprocess.run([sys.executable, "-c", code], check=True, text=True,
                                      capture_output=True,
                                      env={**os.environ, "PYTHONHASHSEED": seed}).stdout)
            for seed in seeds]
