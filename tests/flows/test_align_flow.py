"""The mapping stage end to end on a small planted pair: sweep, selection, export, report rows."""
import numpy as np
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter

from components.align.config import AlignConfig, InitMethod
from components.dictionary import write_pairs
from components.embeddings import read_vec, write_vec
from components.store import ArtifactStore
from components.align.config import AlignStageConfig
from components.report import RowKind
from flows.align import align_embeddings, spearman
from tests.components.align.conftest import planted_pair


def _store_inputs(store: ArtifactStore, n_identical: int = 30):
    planted = planted_pair(n=400, dim=24, noise=0.3, seed=3, n_identical=n_identical)
    refs = []
    for lang, emb in (("xa", planted.src), ("xb", planted.tgt)):
        with store.writer("vectors", f"vectors-{lang}", {"lang": lang, "words": len(emb.words), "dim": emb.dim},
                          directory=True) as out:
            write_vec(emb, out.path / "vectors.vec")
            (out.path / "vocab.tsv").write_text("".join(f"{w}\t1\n" for w in emb.words))
        refs.append(out.ref)
    pairs = planted.pairs
    with store.writer("dictionary", "dictionary", {}, directory=True) as out:
        write_pairs(pairs[::3], out.path / "test.tsv")
        write_pairs([p for i, p in enumerate(pairs) if i % 3], out.path / "seed.tsv")
    return refs[0], refs[1], out.ref


def test_align_flow_selects_by_criterion_and_exports(data_dir):
    store = ArtifactStore(data_dir / "store")
    src, tgt, dictionary = _store_inputs(store)
    config = AlignStageConfig(align=AlignConfig(vecmap={"stochastic_interval": 10}, refine={"n_refinement": 2}),
                              methods=(InitMethod.VECMAP, InitMethod.IDENTICAL), seeds=(0, 1))
    result = align_embeddings(src, tgt, dictionary, config)
    runs = [r for r in result.rows if r.kind is RowKind.UNSUPERVISED]
    assert sorted(r.name for r in runs) == ["identical seed 0", "identical seed 1", "vecmap seed 0", "vecmap seed 1"]
    assert [r.selected for r in result.rows].count(True) == 1
    assert result.selected_row().criterion == max(r.criterion for r in runs)
    assert result.selected_row().metrics["p1_csls_s2t"] > 0.8
    # The dev check: P@1 on the seed part, which the unsupervised runs never see.
    assert result.selected_row().metrics["dev_p1_csls_s2t"] > 0.8
    # Spearman over the sweep, computed here independently: average ranks by counting, then Pearson
    def ranks(v):
        v = np.asarray(v, dtype=float)
        return np.array([(v < x).sum() + ((v == x).sum() - 1) / 2 for x in v])

    crit, dev = [r.criterion for r in runs], [r.metrics["dev_p1_csls_s2t"] for r in runs]
    if len(set(crit)) > 1 and len(set(dev)) > 1:
        assert abs(result.spearman_criterion_dev_p1 - np.corrcoef(ranks(crit), ranks(dev))[0, 1]) < 1e-9
    else:
        assert result.spearman_criterion_dev_p1 is None
    kinds = {r.name: r.kind for r in result.rows}
    assert kinds["procrustes_seed"] is RowKind.SUPERVISED and kinds["procrustes_seed_raw"] is RowKind.SUPERVISED
    assert kinds["identical_strings"] is RowKind.REFERENCE and kinds["copy"] is RowKind.BASELINE
    table = result.report().table()
    assert [row["selected"] for row in table].count("yes") == 1 and len(table) == len(result.rows)
    exported = store.path(result.exported)
    aligned = read_vec(exported / "xa.vec")
    assert aligned.vectors.shape == (400, 24)
    np.testing.assert_allclose(np.linalg.norm(aligned.vectors, axis=1), 1.0, atol=1e-3)
    lexicon = (exported / "lexicon.tsv").read_text().splitlines()
    assert lexicon[0] == "source\ttarget\tscore\trank" and len(lexicon) == 401
    assert (data_dir / "reports" / "alignment-xa-xb.png").stat().st_size > 0


def test_pair_without_shared_spellings_skips_the_orthographic_runs_with_two_runs_at_a_time(data_dir):
    src, tgt, dictionary = _store_inputs(ArtifactStore(data_dir / "store"), n_identical=0)
    config = AlignStageConfig(align=AlignConfig(vecmap={"stochastic_interval": 10}, refine={"n_refinement": 1}),
                              methods=(InitMethod.VECMAP, InitMethod.IDENTICAL), seeds=(0, 1), parallel_runs=2)
    state = align_embeddings(src, tgt, dictionary, config, return_state=True)
    result = state.result()
    assert [r.name for r in result.rows if r.kind is RowKind.UNSUPERVISED] == ["vecmap seed 0", "vecmap seed 1"]
    assert result.row("identical_strings") is None and result.row("procrustes_seed") is not None
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [state.state_details.flow_run_id]}))
    spans = [(r.start_time, r.end_time) for r in runs if r.task_key.startswith(("align_run", "align_reference"))]
    assert len(spans) == 7  # 4 runs and 3 references
    in_flight = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert in_flight == 2


def test_spearman_matches_known_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert spearman([1, 2], [1, 2]) is None
    assert abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-9


def test_a_pair_without_shared_spelling_skips_the_identical_runs_and_says_so(data_dir):
    store = ArtifactStore(data_dir / "store")
    src, tgt, dictionary = _store_inputs(store, n_identical=0)  # 'w12' against 't12': as in two scripts
    config = AlignStageConfig(align=AlignConfig(vecmap={"stochastic_interval": 10}, refine={"n_refinement": 1}),
                              methods=(InitMethod.VECMAP, InitMethod.IDENTICAL), seeds=(0,))
    result = align_embeddings(src, tgt, dictionary, config)
    assert result.skipped == ["identical seed 0"]
    assert result.selected_row().name == "vecmap seed 0"
    assert "identical_strings" not in {r.name for r in result.rows}
    assert "Skipped: identical seed 0" in result.report().markdown()


def test_gw_compares_the_first_part_of_vectors_made_of_parts():
    from components.store import ArtifactRef
    from tasks.align.run import with_first_part

    def ref(meta):
        return ArtifactRef(kind="vectors", sha256="0" * 64, path="objects/00/x", meta=meta)

    parts = {"lang": "xa", "dim": 24, "parts": [20, 4]}
    config = AlignConfig()
    assert with_first_part(config, ref(parts), ref(parts)).gromov.dims == 20
    assert with_first_part(config, ref({"dim": 24}), ref({"dim": 24})).gromov.dims is None  # one part: all
    assert with_first_part(config, ref(parts), ref({**parts, "parts": [16, 8]})).gromov.dims is None
    fixed = AlignConfig(gromov={"dims": 12})
    assert with_first_part(fixed, ref(parts), ref(parts)).gromov.dims == 12  # an explicit choice stays
