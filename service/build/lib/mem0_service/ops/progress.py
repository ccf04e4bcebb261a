"""Progress bars on stderr (only when someone watches a terminal, unless asked)."""

from __future__ import annotations

import sys

from tqdm import tqdm


def bar(total: int | None, desc: str, enabled: bool | None, unit: str = "mem") -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True,
                disable=(not sys.stderr.isatty()) if enabled is None else not enabled)
