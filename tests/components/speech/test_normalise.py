"""Per-voice normalisation of segment features, and flite's own phonemisation of text."""
import pytest
import torch

from components.errors import InputError
from components.speech.normalise import normalise_by_group, voice_of
from components.speech.phones import SILENCE, decode_ids, flite_phonemise


def _voices(seed: int = 0) -> tuple[list[torch.Tensor], list[str]]:
    """Two voices: the same latent features through different affine maps."""
    g = torch.Generator().manual_seed(seed)
    maps = {"a": (torch.randn(4, 4, generator=g), torch.randn(4, generator=g) * 5),
            "b": (torch.randn(4, 4, generator=g), torch.randn(4, generator=g) * 5)}
    xs, voices = [], []
    for i in range(40):
        v = "ab"[i % 2]
        a, b = maps[v]
        xs.append(torch.randn(int(torch.randint(3, 9, (1,), generator=g)), 4, generator=g) @ a + b)
        voices.append(v)
    return xs, voices


@pytest.mark.parametrize("whiten", [False, True])
def test_each_voice_ends_centred_and_scaled(whiten):
    xs, voices = _voices()
    out = normalise_by_group(xs, voices, whiten)
    assert [o.shape for o in out] == [x.shape for x in xs]
    for v in "ab":
        pooled = torch.cat([o for o, w in zip(out, voices) if w == v]).double()
        assert torch.allclose(pooled.mean(0), torch.zeros(4, dtype=pooled.dtype), atol=1e-6)
        if whiten:  # identity covariance
            assert torch.allclose(torch.cov(pooled.T), torch.eye(4, dtype=pooled.dtype), atol=1e-4)
        else:
            assert torch.allclose(pooled.std(0, unbiased=False), torch.ones(4, dtype=pooled.dtype), atol=1e-6)


def test_whitening_undoes_a_per_voice_linear_map():
    # one voice's features are another's through an invertible map: after whitening both
    # voices, the same latent rows end up related by a rotation only (distances preserved)
    g = torch.Generator().manual_seed(1)
    z = torch.randn(200, 3, generator=g, dtype=torch.float64)
    a = torch.randn(3, 3, generator=g, dtype=torch.float64)
    out = normalise_by_group([z, z @ a + 3.0], ["x", "y"], whiten=True)
    d0, d1 = torch.cdist(out[0], out[0]), torch.cdist(out[1], out[1])
    assert torch.allclose(d0, d1, atol=1e-6)


def test_voice_of_and_bad_lengths():
    assert voice_of("40001001-kal16") == "kal16" and voice_of("plain") == "plain"
    with pytest.raises(ValueError):
        normalise_by_group([torch.zeros(2, 2)], ["a", "b"], whiten=False)


def test_flite_phonemise_matches_flite_conventions():
    a, b = flite_phonemise(["And the LORD spake unto Moses, saying.", "Hello  world"])
    assert decode_ids(b) == [SILENCE, "hh", "ah", "l", "ow", "w", "er", "l", "d", SILENCE]
    phones = decode_ids(a)
    # pauses at the start, after the comma and at the end, never twice in a row
    assert phones[0] == phones[-1] == SILENCE and phones.count(SILENCE) == 3
    assert all(not (p == q == SILENCE) for p, q in zip(phones, phones[1:]))


def test_flite_phonemise_names_a_missing_program(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(InputError, match="t2p"):
        flite_phonemise(["hello"])
