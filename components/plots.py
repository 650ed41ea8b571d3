"""Figures for the reports: matplotlib without a display, written atomically as PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from components.atomic import atomic_path


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display is needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out: Path, dpi: int = 100) -> Path:
    """Lay out `fig`, write it at `out` as PNG atomically, and free it."""
    fig.tight_layout()
    with atomic_path(Path(out)) as tmp:
        fig.savefig(tmp, dpi=dpi)
    pyplot().close(fig)
    return Path(out)
