"""The reference app's declaration, imported once for the config corpus.

The corpus's folder holds a one-line app.py that imports `app` from here: each of its
hundreds of runs then reads the same declaration without compiling app.py again.
"""

from __future__ import annotations

from tests.support.apps import reference_app

app = reference_app()
