"""The self-supervised front end on tiny randomly initialised models (no pretrained weights can be
downloaded here): built with torchaudio, written as torchaudio, fairseq and Hugging Face write
them, read back through `load_checkpoint`, they give the original module's features."""
from __future__ import annotations

import json
import re
from argparse import Namespace
from pathlib import Path

import pytest
import torch
from torchaudio.models import wav2vec2_model
from torchaudio.models.wav2vec2.utils.import_fairseq import _convert_state_dict

from components.errors import InputError
from components.speech.audio import read_audio
from components.speech.config import (CheckpointFormat, DecodeConfig, FeatureKind, FeaturesConfig, GeneratorConfig,
                                      SegmentConfig, SpeechConfig)
from components.speech.corpus import Utterance
from components.speech.features import extract_features, feature_dim, frame_seconds, shortest_audio_s
from components.speech.gan import Generator, TrainedGenerator
from components.speech.lm import NgramLM
from components.speech.model import SpeechModel, transcribe_files
from components.speech.phones import PHONES, Lexicon
from components.speech.prepare import shard_features
from components.speech.segment import fit_segmenter, segment_shard
from components.speech.ssl import SslEncoder, checkpoint_files, encode, load_checkpoint

CPU = torch.device("cpu")
# wav2vec 2.0's conv layout with 16 channels: a 320-sample (20 ms) stride, a 400-sample field
CONVS = [(16, 10, 5)] + [(16, 3, 2)] * 4 + [(16, 2, 2)] * 2
CONVS_EXPR = "[(16, 10, 5)] + [(16, 3, 2)] * 4 + [(16,2,2)] * 2"  # as fairseq writes conv_feature_layers
# base models (wav2vec 2.0, HuBERT): group norm, post-norm; large / XLS-R: layer norms, pre-norm,
# conv bias, pretrained on normalised waveforms
VARIANTS = {"wav2vec2": False, "hubert": False, "xlsr": True}


def tiny_config(large: bool) -> dict:
    return dict(extractor_mode="layer_norm" if large else "group_norm", extractor_conv_layer_config=CONVS,
                extractor_conv_bias=large, encoder_embed_dim=32, encoder_projection_dropout=0.1,
                encoder_pos_conv_kernel=8, encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=2,
                encoder_attention_dropout=0.1, encoder_ff_interm_features=64, encoder_ff_interm_dropout=0.0,
                encoder_dropout=0.1, encoder_layer_norm_first=large, encoder_layer_drop=0.05)


def tiny_model(variant: str, seed: int = 0) -> torch.nn.Module:
    """Random weights, every tensor perturbed (norm layers too): a misplaced tensor shows."""
    torch.manual_seed(seed)
    model = wav2vec2_model(**tiny_config(VARIANTS[variant]), aux_num_out=None).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def reference(model: torch.nn.Module, wave: torch.Tensor, layer: int, normalize: bool) -> torch.Tensor:
    """The original module's layer output: (frames, dim)."""
    x = torch.nn.functional.layer_norm(wave, wave.shape) if normalize else wave
    with torch.inference_mode():
        return model.extract_features(x[None], num_layers=layer)[0][layer - 1][0].clone()


# ---- writers: the three formats as their libraries write them --------------------------------

def save_torchaudio(model, variant: str, path: Path) -> Path:
    torch.save({"config": tiny_config(VARIANTS[variant]), "state_dict": model.state_dict(),
                "normalize_waveform": VARIANTS[variant]}, path)
    return path


def _fairseq_name(key: str, layer_norm_mode: bool) -> str:
    """torchaudio's name -> fairseq's: the inverse of torchaudio's `_map_key`."""
    rules = [(r"^feature_extractor\.conv_layers\.(\d+)\.conv\.", r"feature_extractor.conv_layers.\1.0."),
             (r"^feature_extractor\.conv_layers\.(\d+)\.layer_norm\.",
              r"feature_extractor.conv_layers.\1.2.1." if layer_norm_mode else r"feature_extractor.conv_layers.\1.2."),
             (r"^encoder\.feature_projection\.projection\.", "post_extract_proj."),
             (r"^encoder\.feature_projection\.layer_norm\.", "layer_norm."),
             (r"^encoder\.transformer\.pos_conv_embed\.conv\.parametrizations\.weight\.original0$",
              "encoder.pos_conv.0.weight_g"),
             (r"^encoder\.transformer\.pos_conv_embed\.conv\.parametrizations\.weight\.original1$",
              "encoder.pos_conv.0.weight_v"),
             (r"^encoder\.transformer\.pos_conv_embed\.conv\.bias$", "encoder.pos_conv.0.bias"),
             (r"^encoder\.transformer\.layer_norm\.", "encoder.layer_norm."),
             (r"^encoder\.transformer\.layers\.(\d+)\.attention\.", r"encoder.layers.\1.self_attn."),
             (r"^encoder\.transformer\.layers\.(\d+)\.layer_norm\.", r"encoder.layers.\1.self_attn_layer_norm."),
             (r"^encoder\.transformer\.layers\.(\d+)\.feed_forward\.intermediate_dense\.", r"encoder.layers.\1.fc1."),
             (r"^encoder\.transformer\.layers\.(\d+)\.feed_forward\.output_dense\.", r"encoder.layers.\1.fc2."),
             (r"^encoder\.transformer\.layers\.(\d+)\.final_layer_norm\.", r"encoder.layers.\1.final_layer_norm.")]
    for pattern, repl in rules:
        if re.search(pattern, key):
            return re.sub(pattern, repl, key)
    raise AssertionError(f"no fairseq name for {key}")


class TrainingMeter:
    """Stands for fairseq's own classes pickled in a checkpoint's training state."""

    ran: list[str] = []

    def __init__(self, value: float) -> None:
        self.value = value

    def __setstate__(self, state: dict) -> None:
        TrainingMeter.ran.append("setstate")  # must never run on loading
        self.__dict__.update(state)


def fairseq_checkpoint(model, variant: str) -> dict:
    """What fairseq's trainer saves for a pretraining run: settings under 'cfg' (HuBERT here under
    the legacy 'args' Namespace), weights under 'model' with fairseq's names, training state."""
    large = VARIANTS[variant]
    weights = {_fairseq_name(k, large): v.clone() for k, v in model.state_dict().items()}
    weights["mask_emb"] = torch.randn(32)
    weights["final_proj.weight"], weights["final_proj.bias"] = torch.randn(16, 32), torch.randn(16)
    if variant == "hubert":
        weights["label_embs_concat"] = torch.randn(50, 16)
    else:
        weights["quantizer.vars"] = torch.randn(1, 8, 8)
        weights["quantizer.weight_proj.weight"] = torch.randn(8, 16)
        weights["quantizer.weight_proj.bias"] = torch.randn(8)
        weights["project_q.weight"], weights["project_q.bias"] = torch.randn(16, 8), torch.randn(16)
    model_cfg = {"_name": "hubert" if variant == "hubert" else "wav2vec2",
                 "extractor_mode": "layer_norm" if large else "default", "conv_feature_layers": CONVS_EXPR,
                 "conv_bias": large, "encoder_embed_dim": 32, "encoder_layers": 2, "encoder_attention_heads": 2,
                 "encoder_ffn_embed_dim": 64, "layer_norm_first": large, "conv_pos": 8, "conv_pos_groups": 4,
                 "dropout": 0.1, "attention_dropout": 0.1, "activation_dropout": 0.0, "dropout_input": 0.1,
                 "encoder_layerdrop": 0.05, "final_dim": 16, "mask_prob": 0.65, "latent_temp": [2.0, 0.5, 0.999995],
                 "activation_fn": "gelu", "feature_grad_mult": 0.1}
    task = {"_name": "audio_pretraining", "normalize": large, "sample_rate": 16000, "data": "/data/manifests"}
    ckpt = {"model": weights, "optimizer_history": [{"criterion_name": "Wav2vecCriterion", "num_updates": 400000}],
            "extra_state": {"metrics": {"loss": TrainingMeter(2.5)}, "train_iterator": {"epoch": 3}},
            "last_optimizer_state": {"state": {0: {"exp_avg": torch.zeros(3)}}}}
    if variant == "hubert":
        ckpt["args"] = Namespace(arch="hubert", **{k: v for k, v in model_cfg.items() if k != "_name"},
                                 task="hubert_pretraining", label_rate=50, normalize=large)
    else:
        ckpt["args"] = None
        ckpt["cfg"] = {"_name": None, "common": {"fp16": True, "seed": 1}, "model": model_cfg, "task": task}
    return ckpt


def save_fairseq(model, variant: str, path: Path) -> Path:
    torch.save(fairseq_checkpoint(model, variant), path)
    return path


def _hf_name(key: str) -> str:
    """torchaudio's name -> transformers': the submodules match one to one (torchaudio's `_build`)."""
    key = key.replace("encoder.transformer.", "encoder.").replace("encoder.feature_projection.", "feature_projection.")
    # transformers checkpoints of these models keep weight norm's legacy names
    return key.replace("conv.parametrizations.weight.original0", "conv.weight_g").replace(
        "conv.parametrizations.weight.original1", "conv.weight_v")


def save_huggingface(model, variant: str, directory: Path) -> Path:
    """save_pretrained's layout: Wav2Vec2ForPreTraining (keys under 'wav2vec2.', with the quantizer
    and projections) for wav2vec 2.0 / XLS-R, HubertModel (no prefix) for HuBERT."""
    large = VARIANTS[variant]
    directory.mkdir(parents=True)
    hubert = variant == "hubert"
    config = {"model_type": "hubert" if hubert else "wav2vec2",
              "architectures": ["HubertModel" if hubert else "Wav2Vec2ForPreTraining"],
              "feat_extract_norm": "layer" if large else "group", "conv_dim": [c for c, _, _ in CONVS],
              "conv_kernel": [k for _, k, _ in CONVS], "conv_stride": [s for _, _, s in CONVS], "conv_bias": large,
              "hidden_size": 32, "feat_proj_dropout": 0.1, "num_conv_pos_embeddings": 8,
              "num_conv_pos_embedding_groups": 4, "num_hidden_layers": 2, "num_attention_heads": 2,
              "attention_dropout": 0.1, "intermediate_size": 64, "activation_dropout": 0.0, "hidden_dropout": 0.1,
              "do_stable_layer_norm": large, "layerdrop": 0.05, "hidden_act": "gelu", "vocab_size": 32,
              "transformers_version": "4.40.0"}
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    prefix = "" if hubert else "wav2vec2."
    weights = {prefix + _hf_name(k): v.clone() for k, v in model.state_dict().items()}
    weights[prefix + "masked_spec_embed"] = torch.rand(32)
    if not hubert:
        weights["quantizer.codevectors"] = torch.randn(1, 8, 8)
        weights["project_hid.weight"], weights["project_q.weight"] = torch.randn(16, 32), torch.randn(16, 8)
    torch.save(weights, directory / "pytorch_model.bin")
    if large:  # what its feature extractor says
        (directory / "preprocessor_config.json").write_text(json.dumps({"do_normalize": True}), encoding="utf-8")
    return directory


WRITERS = {CheckpointFormat.torchaudio: save_torchaudio, CheckpointFormat.fairseq: save_fairseq,
           CheckpointFormat.huggingface: save_huggingface}


def write(fmt: CheckpointFormat, model, variant: str, root: Path) -> Path:
    hf = fmt is CheckpointFormat.huggingface
    target = root / f"{variant}-{fmt.value}" if hf else root / f"{variant}.{fmt.value}.pt"
    return WRITERS[fmt](model, variant, target)


# ---- loading gives the original module's features -------------------------------------------

def test_fairseq_names_are_the_ones_torchaudio_maps_back():
    model = tiny_model("wav2vec2")
    for variant in VARIANTS:
        converted = _convert_state_dict(fairseq_checkpoint(model, variant)["model"])
        converted.pop("label_embs_concat", None)
        # weight norm's legacy names, which torch's weight_norm renames when a state dict loads
        legacy = {k.replace("conv.parametrizations.weight.original0", "conv.weight_g").replace(
            "conv.parametrizations.weight.original1", "conv.weight_v") for k in model.state_dict()}
        assert set(converted) == legacy, variant


@pytest.mark.parametrize("fmt", list(CheckpointFormat))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_format_loads_to_the_same_features(tmp_path, fmt, variant):
    model = tiny_model(variant)
    TrainingMeter.ran.clear()
    encoder = load_checkpoint(write(fmt, model, variant, tmp_path), fmt)
    assert TrainingMeter.ran == []  # no code of the checkpoint's pickled classes ran
    assert (encoder.layers, encoder.dim, encoder.stride, encoder.receptive_field) == (2, 32, 320, 400)
    assert encoder.normalize_waveform is VARIANTS[variant]
    wave = torch.randn(16_000, generator=torch.Generator().manual_seed(1))
    for layer in (1, 2):
        feats = encode(wave, encoder, layer, CPU)
        expected = reference(model, wave, layer, VARIANTS[variant])
        assert feats.shape == expected.shape == (49, 32)  # (16000 - 400) // 320 + 1 frames
        assert torch.allclose(feats, expected, atol=1e-5, rtol=0), (feats - expected).abs().max()


def test_frames_follow_the_20_ms_stride_and_the_layer_matters(tmp_path):
    encoder = load_checkpoint(save_torchaudio(tiny_model("hubert"), "hubert", tmp_path / "h.pt"),
                              CheckpointFormat.torchaudio)
    for samples in (400, 719, 720, 16_000, 40_321):
        feats = encode(torch.randn(samples), encoder, 2, CPU)
        assert feats.shape == (encoder.frames(samples), 32) == ((samples - 400) // 320 + 1, 32)
    wave = torch.randn(24_000)
    one, two = encode(wave, encoder, 1, CPU), encode(wave, encoder, 2, CPU)
    assert (one - two).abs().mean() > 0.1
    assert torch.equal(encode(wave, encoder, None, CPU), two)  # default: ceil(5/8 of 2 layers)
    cfg = FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=tmp_path / "h.pt", features_layer=1)
    feats = extract_features(wave, cfg, encoder=encoder)  # per-utterance normalised
    assert feats.shape == (74, feature_dim(cfg, encoder))
    assert torch.allclose(feats.mean(0), torch.zeros(32), atol=1e-4)
    assert frame_seconds(cfg, encoder) == 0.02 and shortest_audio_s(cfg, encoder) == 0.025
    resampled = extract_features(torch.randn(12_000), cfg, sample_rate=8000, encoder=encoder)
    assert resampled.shape[0] == encoder.frames(24_000)  # 8 kHz audio is brought to 16 kHz first


def test_long_audio_is_encoded_in_chunks_of_the_same_frames(tmp_path):
    encoder = load_checkpoint(save_torchaudio(tiny_model("xlsr"), "xlsr", tmp_path / "x.pt"),
                              CheckpointFormat.torchaudio)
    wave = torch.randn(16_000 * 7)
    whole = encode(wave, encoder, 2, CPU, chunk_s=30.0)
    chunked = encode(wave, encoder, 2, CPU, chunk_s=2.0)
    assert chunked.shape == whole.shape == (encoder.frames(wave.numel()), 32)
    assert torch.isfinite(chunked).all()
    assert torch.equal(whole, encode(wave, encoder, 2, CPU, chunk_s=7.5))  # one chunk: the whole utterance


# ---- bad checkpoints: one clear error naming the file -----------------------------------------

@pytest.mark.parametrize("fmt", list(CheckpointFormat))
def test_missing_and_corrupt_checkpoints_are_named(tmp_path, fmt):
    with pytest.raises(InputError, match=r"nowhere\.pt: no such checkpoint"):
        load_checkpoint(tmp_path / "nowhere.pt", fmt)
    good = write(fmt, tiny_model("wav2vec2"), "wav2vec2", tmp_path)
    weights = good / "pytorch_model.bin" if fmt is CheckpointFormat.huggingface else good
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # truncated download
    with pytest.raises(InputError, match=re.escape(weights.name) + ".*cannot be read"):
        load_checkpoint(good, fmt)
    weights.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(InputError, match=re.escape(weights.name) + ".*cannot be read"):
        load_checkpoint(good, fmt)


def test_a_layer_beyond_the_model_is_refused(tmp_path):
    path = save_torchaudio(tiny_model("wav2vec2"), "wav2vec2", tmp_path / "w.pt")
    encoder = load_checkpoint(path, CheckpointFormat.torchaudio)
    with pytest.raises(InputError, match=r"w\.pt: features_layer 3 is beyond the model's 2 transformer layers"):
        encode(torch.randn(4000), encoder, 3, CPU)
    with pytest.raises(InputError, match=r"clip: too short: 399 samples .*25 ms receptive field"):
        encode(torch.randn(399), encoder, 1, CPU, source="clip")


def test_wrong_format_kind_and_fine_tuned_checkpoints_are_refused(tmp_path):
    model = tiny_model("wav2vec2")
    fairseq = save_fairseq(model, "wav2vec2", tmp_path / "f.pt")
    with pytest.raises(InputError, match=r"f\.pt: is a fairseq checkpoint.*features_format = 'fairseq'"):
        load_checkpoint(fairseq, CheckpointFormat.torchaudio)
    with pytest.raises(InputError, match=r"is a directory.*'huggingface'"):
        load_checkpoint(save_huggingface(model, "wav2vec2", tmp_path / "hf"), CheckpointFormat.fairseq)
    with pytest.raises(ValueError):
        CheckpointFormat("onnx")
    with pytest.raises(ValueError, match="features_format"):
        FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=fairseq, features_format="onnx")
    ctc = {"config": {**tiny_config(False), "aux_num_out": 32}, "state_dict": model.state_dict()}
    torch.save(ctc, tmp_path / "ctc.pt")
    with pytest.raises(InputError, match=r"ctc\.pt: is fine-tuned on transcripts"):
        load_checkpoint(tmp_path / "ctc.pt", CheckpointFormat.torchaudio)
    hf = tmp_path / "hf"
    (hf / "config.json").write_text(json.dumps({**json.loads((hf / "config.json").read_text()),
                                                "architectures": ["Wav2Vec2ForCTC"]}))
    with pytest.raises(InputError, match="is fine-tuned on transcripts"):
        load_checkpoint(hf, CheckpointFormat.huggingface)
    ckpt = fairseq_checkpoint(model, "wav2vec2")
    ckpt["cfg"]["model"] = {"_name": "wav2vec_ctc", "w2v_path": "/models/wav2vec_small.pt"}
    torch.save(ckpt, tmp_path / "ctc-fairseq.pt")
    with pytest.raises(InputError, match=r"ctc-fairseq\.pt: is fine-tuned on transcripts"):
        load_checkpoint(tmp_path / "ctc-fairseq.pt", CheckpointFormat.fairseq)


def test_weights_that_do_not_fit_their_config_are_refused(tmp_path):
    state = tiny_model("wav2vec2").state_dict()
    torch.save({"config": {**tiny_config(False), "encoder_num_layers": 3}, "state_dict": state}, tmp_path / "a.pt")
    with pytest.raises(InputError, match=r"a\.pt: its weights do not fit its config: \d+ tensors missing"):
        load_checkpoint(tmp_path / "a.pt", CheckpointFormat.torchaudio)
    torch.save({"config": {**tiny_config(False), "encoder_ff_interm_features": 48}, "state_dict": state},
               tmp_path / "c.pt")
    with pytest.raises(InputError, match=r"c\.pt: its weights do not fit its config \(Error"):
        load_checkpoint(tmp_path / "c.pt", CheckpointFormat.torchaudio)
    ckpt = fairseq_checkpoint(tiny_model("wav2vec2"), "wav2vec2")
    ckpt["cfg"]["model"]["conv_feature_layers"] = "__import__('os').system('true')"
    torch.save(ckpt, tmp_path / "b.pt")
    with pytest.raises(InputError, match=r"b\.pt: unreadable conv_feature_layers"):
        load_checkpoint(tmp_path / "b.pt", CheckpointFormat.fairseq)


def test_hugging_face_directory_problems_are_named(tmp_path):
    hf = save_huggingface(tiny_model("hubert"), "hubert", tmp_path / "hf")
    (hf / "pytorch_model.bin").unlink()
    with pytest.raises(InputError, match=r"hf: holds no pytorch_model.bin or model.safetensors"):
        load_checkpoint(hf, CheckpointFormat.huggingface)
    (hf / "model.safetensors").write_bytes(b"{}")
    try:
        import safetensors  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match=r"model\.safetensors: needs the `safetensors` package"):
            load_checkpoint(hf, CheckpointFormat.huggingface)
    (hf / "config.json").write_text(json.dumps({"model_type": "wavlm"}))
    with pytest.raises(InputError, match=r"config\.json: model_type 'wavlm'"):
        load_checkpoint(hf, CheckpointFormat.huggingface)


def test_only_the_files_read_key_the_cache(tmp_path):
    model = tiny_model("xlsr")
    hf = save_huggingface(model, "xlsr", tmp_path / "hf")
    (hf / "tf_model.h5").write_bytes(b"another framework's copy of the weights")
    assert checkpoint_files(hf, CheckpointFormat.huggingface) == [
        hf / "config.json", hf / "preprocessor_config.json", hf / "pytorch_model.bin"]
    pt = save_fairseq(model, "xlsr", tmp_path / "x.pt")
    assert checkpoint_files(pt, CheckpointFormat.fairseq) == [pt]
    with pytest.raises(InputError, match="no such checkpoint"):
        checkpoint_files(tmp_path / "gone", CheckpointFormat.huggingface)
    (hf / "pytorch_model.bin").rename(hf / "pytorch_model-00001-of-00002.bin")
    (hf / "pytorch_model.bin.index.json").write_text("{}")
    with pytest.raises(InputError, match=r"hf: holds no pytorch_model.bin .*sharded weights"):
        load_checkpoint(hf, CheckpointFormat.huggingface)


def test_safetensors_weights_load_when_the_package_is_installed(tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    model = tiny_model("wav2vec2")
    hf = save_huggingface(model, "wav2vec2", tmp_path / "hf")
    weights = torch.load(hf / "pytorch_model.bin", weights_only=True)
    (hf / "pytorch_model.bin").unlink()
    safetensors.save_file({k: v.contiguous() for k, v in weights.items()}, str(hf / "model.safetensors"))
    wave = torch.randn(8000)
    assert torch.allclose(encode(wave, load_checkpoint(hf, CheckpointFormat.huggingface), 2, CPU),
                          reference(model, wave, 2, False), atol=1e-5)


def test_ssl_features_need_a_checkpoint_and_all_dims_compared():
    with pytest.raises(ValueError, match="needs features_checkpoint"):
        FeaturesConfig(features_kind=FeatureKind.ssl)
    with pytest.raises(ValueError, match="features_kind is 'mfcc'"):
        FeaturesConfig(features_checkpoint=Path("w.pt"))
    ssl = FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=Path("w.pt"))
    with pytest.raises(ValueError, match="segment_change_dims = 13"):
        SpeechConfig(features=ssl)
    SpeechConfig(features=ssl, segment=SegmentConfig(segment_change_dims=0))


# ---- the stage's preparation and segmentation on flite audio ---------------------------------

def test_stage_preparation_and_segmentation_on_flite_audio(tmp_path, flite_corpus):
    """Two flite utterances through the tiny model: 20 ms frames, and segment labels taken from
    flite's alignment at that rate (each segment's label is a phone spoken inside its span)."""
    path = save_fairseq(tiny_model("wav2vec2"), "wav2vec2", tmp_path / "w.pt")
    encoder = load_checkpoint(path, CheckpointFormat.fairseq)
    features = FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=path,
                              features_format=CheckpointFormat.fairseq)
    segment = SegmentConfig(segment_change_dims=0, segment_pca_dim=8)
    utts = [Utterance(f"u{i}", text, voice) for i, (_, _, text), voice in zip(range(2), flite_corpus, ("rms", "slt"))]
    shard, problems = shard_features(utts, features, encoder, CPU)
    assert not problems and shard.frame_s == 0.02
    alignments = shard.alignments()
    for f, m, ali in zip(shard.feats, shard.manifest, alignments):
        seconds = ali[-1].end
        assert f.shape[1] == 32 and abs(f.shape[0] * 0.02 - seconds) < 0.05, (f.shape, seconds)
    model = fit_segmenter(shard.feats, segment, seed=0, device=CPU)
    xs, bounds, labels = segment_shard(shard.feats, alignments, model, segment, shard.frame_s)
    for x, b, lab, ali, f in zip(xs, bounds, labels, alignments, shard.feats):
        assert x.shape == (b.shape[0], 8) and b[0, 0] == 0 and b[-1, 1] == f.shape[0]
        assert 1 < b.shape[0] < f.shape[0]
        for (s, e), phone in zip(b.tolist(), lab):
            t0, t1 = s * 0.02, e * 0.02
            spoken = {PHONES.index(a.phone) for a in ali if a.end > t0 and a.start < t1}
            assert phone in spoken, (s, e, PHONES[phone])


def test_read_audio_then_features_match_the_model_on_the_same_file(flite_corpus, tmp_path):
    model = tiny_model("hubert")
    path = save_torchaudio(model, "hubert", tmp_path / "h.pt")
    wave = read_audio(flite_corpus[0][0])
    cfg = FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=path, features_normalise=False)
    feats = extract_features(wave, cfg, encoder=load_checkpoint(path, CheckpointFormat.torchaudio))
    assert torch.allclose(feats, reference(model, wave, 2, False), atol=1e-5)


def test_saved_encoder_round_trips(tmp_path):
    encoder = load_checkpoint(save_fairseq(tiny_model("xlsr"), "xlsr", tmp_path / "x.pt"), CheckpointFormat.fairseq)
    encoder.save(tmp_path / "again.pt")
    back = load_checkpoint(tmp_path / "again.pt", CheckpointFormat.torchaudio)
    wave = torch.randn(9000)
    assert back.normalize_waveform and torch.equal(encode(wave, back, 1, CPU), encode(wave, encoder, 1, CPU))
    assert isinstance(back, SslEncoder)


def test_packaged_recogniser_carries_its_encoder(flite_corpus, tmp_path):
    """The model directory holds its own copy of the encoder: transcription of new audio uses
    the same features after the user's checkpoint is gone; a stored copy is hard-linked."""
    (tmp_path / "user").mkdir()
    checkpoint = save_fairseq(tiny_model("wav2vec2"), "wav2vec2", tmp_path / "user" / "w.pt")
    encoder = load_checkpoint(checkpoint, CheckpointFormat.fairseq)
    features = FeaturesConfig(features_kind=FeatureKind.ssl, features_checkpoint=checkpoint,
                              features_format=CheckpointFormat.fairseq)
    segment, gen_cfg = SegmentConfig(segment_change_dims=0, segment_pca_dim=8), GeneratorConfig(generator_hidden=8)
    feats = [extract_features(read_audio(w), features, encoder=encoder) for w, _, _ in flite_corpus]
    segmenter = fit_segmenter(feats, segment, seed=0, device=CPU)
    torch.manual_seed(0)
    weights = {k: v.clone() for k, v in Generator(8, len(PHONES), gen_cfg).state_dict().items()}
    model = SpeechModel(features, segment, segmenter, gen_cfg, TrainedGenerator(weights, 8, len(PHONES), 1, 3.0),
                        Lexicon({"god": [("g", "aa", "d")]}, use_t2p=False), NgramLM.fit([["god"]], order=2),
                        DecodeConfig(decode_beam=2), {"origin": "test"}, encoder=encoder)
    model.save(tmp_path / "model")
    checkpoint.unlink()
    loaded = SpeechModel.load(tmp_path / "model")
    saved = json.loads((tmp_path / "model" / "config.json").read_text())
    assert (saved["features"]["features_checkpoint"], saved["features"]["features_format"]) == (
        "encoder.pt", "torchaudio")
    assert saved["info"]["encoder_source"] == str(checkpoint)
    wav = flite_corpus[1][0]
    assert torch.equal(loaded.segments(read_audio(wav)), model.segments(read_audio(wav)))
    (ours,) = transcribe_files(loaded, [wav], CPU)
    assert ours.error is None and ours.phones == transcribe_files(model, [wav], CPU)[0].phones
    model.encoder.save(tmp_path / "stored.pt")
    SpeechModel(**{**vars(model), "encoder": None}).save(tmp_path / "linked", encoder_file=tmp_path / "stored.pt")
    assert (tmp_path / "linked" / "encoder.pt").stat().st_ino == (tmp_path / "stored.pt").stat().st_ino
    relinked = SpeechModel.load(tmp_path / "linked")
    assert torch.equal(relinked.segments(read_audio(wav)), loaded.segments(read_audio(wav)))
    (tmp_path / "model" / "encoder.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match=r"encoder\.pt: cannot be read as a torchaudio checkpoint"):
        SpeechModel.load(tmp_path / "model")
