"""Crash points for the consistency tests: `MEM0_FAILPOINT=<name>` makes the process die there, like a power cut.

Unset (always, outside those tests) this costs one dictionary lookup."""

from __future__ import annotations

import os

_ACTIVE = os.environ.get("MEM0_FAILPOINT", "")


def crash_if(name: str) -> None:
    if name == _ACTIVE:
        os._exit(137)
