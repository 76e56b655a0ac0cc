"""The garbage collector's tuning for a process whose imports live as long as it does: the test processes
(``tests/conftest.py``) and the emulator's server (``tests/integration/moto_extensions.py``). Each imports
with the collector off, then calls ``settle_imports``; why, and what it saves, is said where it is called."""

from __future__ import annotations

import gc

#: A young collection every this many new objects (CPython's default: 700).
YOUNG_THRESHOLD = 20_000


def settle_imports() -> None:
    """Freeze what the imports made out of every later pass, turn the collector on, and collect the young
    generation every ``YOUNG_THRESHOLD`` new objects, so that fewer pass on to the older generations."""
    gc.freeze()
    gc.enable()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)
