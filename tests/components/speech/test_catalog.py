"""Speech artifact formats: every kind reads back what was written."""
import torch

from components.speech.catalog.audio import AudioShard
from components.speech.catalog.recogniser import Recogniser
from components.speech.catalog.segments import Segmenter, Segments
from components.speech.catalog.text import PhonemisedText
from components.speech.config import SegmentConfig
from components.speech.gan import TrainedGenerator
from components.speech.phones import Lexicon
from components.speech.segment import fit_segmenter
from components.speech.synth import AlignedPhone


def test_audio_shard_round_trip_and_alignments(tmp_path):
    manifest = [{"id": "a", "text": "Jesus wept.", "voice": "rms", "path": None, "frames": 3,
                 "aligned": [["sil", 0.0, 0.1], ["jh", 0.1, 0.2]]},
                {"id": "b", "text": "", "voice": "", "path": "/x/b.wav", "frames": 2, "aligned": []}]
    shard = AudioShard(["a", "b"], [torch.randn(3, 4), torch.randn(2, 4)], manifest)
    shard.save(tmp_path)
    back = AudioShard.load(tmp_path)
    assert back.ids == ["a", "b"] and back.manifest == manifest
    assert all(torch.equal(x, y) for x, y in zip(back.feats, shard.feats))
    assert back.alignments() == [[AlignedPhone("sil", 0.0, 0.1), AlignedPhone("jh", 0.1, 0.2)], None]


def test_phonemised_text_round_trip(tmp_path):
    lexicon = Lexicon(entries={"jesus": [("jh", "iy", "z", "ah", "s")], "wept": [("w", "eh", "p", "t")]},
                      use_t2p=False)
    text = PhonemisedText([[0, 5, 7]], [["jesus", "wept"]], lexicon, ["'1234': has no phonemisable words"])
    text.save(tmp_path)
    back = PhonemisedText.load(tmp_path)
    assert (back.phones, back.words, back.dropped) == (text.phones, text.words, text.dropped)
    assert back.lexicon.entries == lexicon.entries


def test_segments_concatenate_shards_in_order(tmp_path):
    parts = [Segments([torch.randn(2, 3)], [torch.tensor([[0, 1], [1, 4]])], [[1, 2]], [f"u{i}"],
                      [["sil", "k"]], [f"text {i}"]) for i in range(2)]
    parts[1].labels, parts[1].phones = [None], [None]
    for i, p in enumerate(parts):
        (tmp_path / str(i)).mkdir()
        p.save(tmp_path / str(i))
    both = Segments.read([tmp_path / "0", tmp_path / "1"])
    assert both.ids == ["u0", "u1"] and both.labels == [[1, 2], None] and both.phones == [["sil", "k"], None]
    assert both.texts == ["text 0", "text 1"] and torch.equal(both.x[1], parts[1].x[0])
    assert torch.equal(both.bounds[0], parts[0].bounds[0])


def test_segmenter_and_recogniser_round_trip(tmp_path):
    g = torch.Generator().manual_seed(0)
    cfg = SegmentConfig(segment_clusters=2, segment_pca_dim=2, segment_kmeans_iters=2, segment_kmeans_frames=100)
    model = fit_segmenter([torch.randn(40, 39, generator=g)], cfg, seed=0, device=torch.device("cpu"))
    Segmenter(model).save(tmp_path)
    back = Segmenter.load(tmp_path).model
    assert all(torch.equal(a, back.state_dict()[k]) for k, a in model.state_dict().items())

    trained = TrainedGenerator({"w": torch.ones(2, 2)}, in_dim=2, n_phones=3, step=7, score=1.5,
                               history=[{"step": 7, "score": 1.5, "test_per": None}], hidden=0)
    Recogniser(trained).save(tmp_path)
    again = Recogniser.load(tmp_path).trained
    assert (again.in_dim, again.n_phones, again.step, again.score, again.hidden) == (2, 3, 7, 1.5, 0)
    assert torch.equal(again.generator_state["w"], trained.generator_state["w"])
    assert Recogniser.history(tmp_path) == trained.history
