"""The stage report's markdown: the UI shows the table and the plots themselves."""
import base64

from components.plots import pyplot, save_figure
from components.report import Column, Row, RowKind, StageReport


def _report(plot) -> StageReport:
    return StageReport(key="alignment-xa-xb", title="Word translation", columns=[Column(key="p1", header="P@1",
                       percent=True)], rows=[Row(name="run", kind=RowKind.UNSUPERVISED, metrics={"p1": 0.25},
                                                 criterion=0.5, selected=True)], plots={"training": str(plot)})


def test_markdown_embeds_the_plot_as_a_png_data_uri(tmp_path):
    fig, ax = pyplot().subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    png = save_figure(fig, tmp_path / "training.png")
    md = _report(png).markdown()
    assert "| run | unsupervised | 25.00 | 0.5 | yes |" in md
    encoded = md.split("](data:image/png;base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(encoded) == png.read_bytes()
    assert f"`{png}`" in md  # where the file is, for a reader on the same machine


def test_a_missing_plot_is_named_not_embedded(tmp_path):
    md = _report(tmp_path / "gone.png").markdown()
    assert "data:image" not in md and "gone.png` (missing)" in md
