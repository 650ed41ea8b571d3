"""The steps the speech tasks call, each on a tiny input: phonemising text, preparing and
segmenting a shard, reference phones, self-training, scoring, the criterion's direction."""
import torch

from components.speech.config import (DecodeConfig, FeaturesConfig, GeneratorConfig, LmConfig, SegmentConfig,
                                      SupervisedConfig)
from components.speech.corpus import Utterance
from components.speech.criterion import SPEECH_CRITERION, phone_lm, weighted_lm_ppl
from components.speech.decode import decode_sentences, word_lm
from components.speech.evaluate import score_phones
from components.speech.gan import transcribe
from components.speech.metrics import phone_error_rate, reference_phones
from components.speech.phones import (PHONES, SILENCE_ID, Lexicon, decode_ids, encode, merge_repeats, phonemise,
                                     text_to_phones)
from components.speech.prepare import shard_features
from components.speech.segment import fit_segmenter, segment_shard
from components.speech.supervised import self_training, supervised_reference

LEXICON = Lexicon(entries={"jesus": [("jh", "iy", "z", "ah", "s")], "wept": [("w", "eh", "p", "t")],
                           "he": [("hh", "iy")]}, use_t2p=False)


def test_phonemise_keeps_order_and_names_dropped_sentences():
    phones, words, dropped = phonemise(["Jesus wept.", "1234 !!", "He wept, Jesus wept."], LEXICON)
    assert words == [["jesus", "wept"], ["he", "wept", "jesus", "wept"]]
    assert phones[0] == encode(text_to_phones("Jesus wept.", LEXICON))
    assert len(dropped) == 1 and "1234" in dropped[0]


def test_reference_phones_prefer_alignments_then_transcripts():
    assert reference_phones([["sil", "k"], None], ["", "Jesus wept."], LEXICON) == [
        ["sil", "k"], text_to_phones("Jesus wept.", LEXICON)]
    assert reference_phones([["k"], None], ["", "Jesus wept."]) is None  # no lexicon for the transcript
    assert reference_phones([None], [""], LEXICON) is None                  # neither
    assert reference_phones([None], ["1234"], LEXICON) is None              # not phonemisable


def test_criterion_selects_the_lowest_and_punishes_few_phones():
    assert not SPEECH_CRITERION.higher_is_better
    assert SPEECH_CRITERION.best([3.0, 1.0, 1.0, 2.0], lambda x: x) == 1.0
    text, _, _ = phonemise(["Jesus wept.", "He wept.", "Jesus wept, he wept."], LEXICON)
    lm = phone_lm(text, LmConfig(lm_phone_order=2))
    assert weighted_lm_ppl(text, lm) < weighted_lm_ppl([[PHONES.index("iy")]] * 3, lm)


def _planted(n: int = 12, seed: int = 0):
    """Segments that are noisy one-hot codes of their phone labels (4 phones, identity map)."""
    g = torch.Generator().manual_seed(seed)
    ids = [2, 10, 17, 30]
    labels = [[ids[int(i)] for i in torch.randint(4, (8,), generator=g)] for _ in range(n)]
    x = [torch.nn.functional.one_hot(torch.tensor(l), len(PHONES)).float() + 0.05 * torch.randn(8, len(PHONES),
                                                                                               generator=g)
         for l in labels]
    return x, labels


def test_supervised_reference_and_self_training_keep_a_right_mapping():
    x, labels = _planted()
    gen, sup = GeneratorConfig(generator_hidden=8, generator_dropout=0.0), SupervisedConfig(
        supervised_steps=200, supervised_hidden=8, supervised_batch_size=4, supervised_lr=1e-2, self_train_rounds=2)
    dev = torch.device("cpu")
    scored = []
    ref = supervised_reference(x, labels, len(PHONES), gen, sup, dev, n_eval=5,
                               score=lambda hyps: scored.append(len(hyps)) or 1.0)
    assert scored == [5] and ref.score == 1.0
    per = lambda t: phone_error_rate([decode_ids(merge_repeats(l)) for l in labels],
                                     [decode_ids(h) for h in transcribe(t.generator(gen, dev), x, dev)])
    assert per(ref) < 0.2
    again = self_training(ref, x, len(PHONES), gen, sup, dev, n_eval=5, score=lambda hyps: 2.0)
    assert again is not ref and again.score == 2.0 and per(again) < 0.2
    assert self_training(ref, x, len(PHONES), gen, sup.model_copy(update={"self_train_rounds": 0}), dev, 5,
                         score=lambda hyps: 3.0) is ref


def test_score_phones_per_confusion_and_words():
    refs = [text_to_phones("Jesus wept.", LEXICON), text_to_phones("He wept.", LEXICON)]
    lm = word_lm([["jesus", "wept"], ["he", "wept"]], LmConfig())
    decode = lambda phones: decode_sentences(phones, LEXICON, lm, DecodeConfig())
    ev = score_phones(refs, refs, ["Jesus wept.", "He wept."], decode)
    assert ev.per == 0.0 and ev.wer == 0.0 and ev.words == ["jesus wept", "he wept"]
    assert ev.hyps[1] == "hh iy w eh p t" and ev.utterances == 2
    assert sum(map(sum, ev.confusion)) == sum(len(r) - r.count("sil") for r in refs)
    blind = score_phones([["sil"], ["sil"]], None, ["", ""])
    assert blind.per is None and blind.wer is None and blind.words is None and blind.confusion is None


def test_shard_features_and_segment_shard_on_speech(flite_corpus, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    utts = [Utterance("u0", flite_corpus[0][2], "rms"), Utterance("bad", "", path=str(bad)),
            Utterance("u2", flite_corpus[2][2], "kal16")]
    shard, problems = shard_features(utts, FeaturesConfig())
    assert shard.ids == ["u0", "u2"] and list(problems) == ["bad"] and "bad.wav" in problems["bad"]
    assert all(f.dtype == torch.float32 and f.shape[0] == m["frames"] for f, m in zip(shard.feats, shard.manifest))
    alignments = shard.alignments()
    assert [a.phone for a in alignments[0]] == [a.phone for a in flite_corpus[0][1]]
    cfg = SegmentConfig(segment_clusters=8, segment_pca_dim=16, segment_kmeans_iters=5)
    model = fit_segmenter(shard.feats, cfg, seed=0, device=torch.device("cpu"))
    assert shard.frame_s == 0.01
    xs, bounds, labels = segment_shard(shard.feats, [alignments[0], None], model, cfg, shard.frame_s)
    assert [x.shape[0] for x in xs] == [b.shape[0] for b in bounds] == [len(labels[0]), xs[1].shape[0]]
    assert labels[1] is None and SILENCE_ID in labels[0]
