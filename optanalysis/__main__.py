"""``python -m optanalysis``: the command line (the same as the ``optanalysis`` script)."""
import sys

from .cli import main

if __name__ == "__main__":  # importing this module (pydoc, documentation tools) runs nothing
    sys.exit(main())
