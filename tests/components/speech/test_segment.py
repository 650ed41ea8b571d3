import torch

from components.speech.config import FeaturesConfig, SegmentConfig
from components.speech.audio import read_audio
from components.speech.features import extract_features
from components.speech.segment import (SegmentModel, fit_pca, fit_segmenter, kmeans, pool_segments,
                                       runs_to_segments, segment_labels, segment_utterance,
                                       smooth_units)


def test_kmeans_finds_planted_clusters():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(50, 2, generator=g) for c in centres])
    found = kmeans(x, 3, 10, seed=0)
    dist = torch.cdist(centres, found).min(1).values
    assert (dist < 0.2).all()


def test_runs_smoothing_and_pooling():
    ids = torch.tensor([0, 0, 1, 0, 0, 2, 2, 2])
    assert smooth_units(ids, 3).tolist() == [0, 0, 0, 0, 0, 2, 2, 2]
    assert runs_to_segments(ids).tolist() == [[0, 2], [2, 3], [3, 5], [5, 8]]
    # the one-frame run joins the segment before it
    assert runs_to_segments(ids, min_frames=2).tolist() == [[0, 3], [3, 5], [5, 8]]
    frames = torch.arange(8.0)[:, None]
    pooled = pool_segments(frames, torch.tensor([[0, 3], [3, 5], [5, 8]]))
    assert pooled.flatten().tolist() == [1.0, 3.5, 6.0]
    assert segment_labels(torch.tensor([[0, 3], [3, 8]]), [4, 4, 5, 5, 5, 6, 6, 6]) == [4, 6]


def test_pca_orders_components_by_variance():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 3, generator=g) * torch.tensor([5.0, 1.0, 0.1])
    _, comps, scale = fit_pca(x, 2)
    assert comps.shape == (3, 2)
    assert abs(float(comps[0, 0])) > 0.99 and scale[0] > scale[1]


def test_segmenter_on_speech(flite_corpus):
    feats = [extract_features(read_audio(w), FeaturesConfig()) for w, _, _ in flite_corpus]
    cfg = SegmentConfig(segment_clusters=8, segment_pca_dim=16, segment_kmeans_iters=5)
    model = fit_segmenter(feats, cfg, seed=0, device=torch.device("cpu"))
    again = SegmentModel.from_state_dict(model.state_dict())
    seg = segment_utterance(feats[0], again, cfg)
    n_seg = seg.features.shape[0]
    assert seg.features.shape == (n_seg, 16) and seg.bounds.shape == (n_seg, 2)
    assert seg.bounds[0, 0] == 0 and seg.bounds[-1, 1] == feats[0].shape[0]
    assert (seg.bounds[1:, 0] == seg.bounds[:-1, 1]).all()
    n_phones = len(flite_corpus[0][1])
    assert n_phones / 2 < n_seg < 10 * n_phones  # about phone-sized units
