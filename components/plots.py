"""Figures for the reports: matplotlib without a display, written atomically as PNG, and embedded
in the UI's markdown (a browser on the Prefect UI cannot open a path on the machine that ran the flow)."""
from __future__ import annotations

import base64
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


def markdown_image(name: str, path: str | Path) -> str:
    """The PNG at `path` as a markdown image with a data URI, captioned with where the file is."""
    path = Path(path)
    if not path.is_file():
        return f"{name}: `{path}` (missing)"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"![{name}](data:image/png;base64,{data})\n\n{name}: `{path}`"
