"""Frame features from a pretrained self-supervised speech model (wav2vec 2.0, HuBERT, XLS-R).

The model is rebuilt as torchaudio's `Wav2Vec2Model` from one of three checkpoint formats:

- torchaudio: `torch.save({"config": <wav2vec2_model keyword arguments>, "state_dict": ...,
  "normalize_waveform": bool})`. The store and the packaged recogniser keep the encoder in
  this format, whatever the user gave.
- fairseq: the `.pt` file fairseq's trainer writes ({'cfg' or 'args', 'model', ...}).
- Hugging Face: a directory with config.json and pytorch_model.bin (or model.safetensors when
  the `safetensors` package is installed).

torchaudio's importers (`import_fairseq_model`, `import_huggingface_model`) take live fairseq or
transformers model objects, and neither library is a dependency here. So the fairseq config is
read from the checkpoint's own config dict (torchaudio's `_parse_config` reads a model object),
the keys are renamed with torchaudio's `_convert_state_dict`, the Hugging Face config.json goes
through torchaudio's `_get_config` (it only reads attributes), and its keys are renamed by
prefix as torchaudio's `_build` does module by module.

A checkpoint fine-tuned on transcripts (a CTC head) is refused: its features have seen paired
data, which unsupervised recognition must not use.
"""
from __future__ import annotations

import ast
import json
import math
import pickle
import re
import zipfile
from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torchaudio.models import Wav2Vec2Model, wav2vec2_model
from torchaudio.models.wav2vec2.utils.import_fairseq import _convert_state_dict
from torchaudio.models.wav2vec2.utils.import_huggingface import _get_config

from components.errors import InputError
from components.speech.audio import SAMPLE_RATE  # every wav2vec 2.0 / HuBERT / XLS-R model was pretrained at it
from components.speech.config import CheckpointFormat

CONTEXT_S = 1.0  # audio on each side of a chunk the model also sees (its frames are dropped)

# fairseq's Wav2Vec2Config defaults, for keys an old checkpoint's `args` may lack
_FAIRSEQ_DEFAULTS: dict[str, Any] = {
    "extractor_mode": "default", "conv_feature_layers": "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] * 2",
    "conv_bias": False, "encoder_embed_dim": 768, "encoder_layers": 12, "encoder_attention_heads": 12,
    "encoder_ffn_embed_dim": 3072, "layer_norm_first": False, "conv_pos": 128, "conv_pos_groups": 16,
    "dropout_input": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "dropout": 0.0,
    "encoder_layerdrop": 0.0}
# wav2vec2_model's conv front when its config gives None: (channels, kernel, stride) per layer
_DEFAULT_CONVS = [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2
# wav2vec2_model's dropout arguments: inert in eval mode, so a torchaudio config may leave them out
_DROPOUTS = ("encoder_projection_dropout", "encoder_attention_dropout", "encoder_ff_interm_dropout",
             "encoder_dropout", "encoder_layer_drop")


@dataclass(frozen=True)
class SslEncoder:
    """A pretrained model rebuilt in torchaudio, in eval mode.

    config: `torchaudio.models.wav2vec2_model` keyword arguments (aux_num_out excluded).
    normalize_waveform: the model was pretrained on utterance-normalised waveforms (zero mean,
    unit variance: fairseq's `task.normalize`, Hugging Face's `do_normalize`).
    """

    model: Wav2Vec2Model
    config: dict[str, Any]
    normalize_waveform: bool
    source: str

    @property
    def layers(self) -> int:
        return int(self.config["encoder_num_layers"])

    @property
    def dim(self) -> int:
        return int(self.config["encoder_embed_dim"])

    @property
    def _convs(self) -> list[tuple[int, int, int]]:
        return self.config.get("extractor_conv_layer_config") or _DEFAULT_CONVS

    @property
    def stride(self) -> int:
        """Samples between two frames (320 for wav2vec 2.0 / HuBERT: 20 ms)."""
        return math.prod(s for _, _, s in self._convs)

    @property
    def receptive_field(self) -> int:
        """Samples one frame sees (400 for wav2vec 2.0 / HuBERT: 25 ms); shorter audio has no frame."""
        field, jump = 1, 1
        for _, k, s in self._convs:
            field += (k - 1) * jump
            jump *= s
        return field

    def frames(self, samples: int) -> int:
        """Frames the convolutional front of the model makes of `samples` samples."""
        n = samples
        for _, k, s in self._convs:
            n = (n - k) // s + 1
            if n < 1:
                return 0
        return n

    def layer(self, requested: int | None) -> int:
        """The transformer layer to read (1-based): `requested`, or 5/8 of the depth when None
        (wav2vec-U reads the 15th of 24; the 8th of a 12-layer model).

        Raises InputError naming the checkpoint when `requested` is beyond the model's layers.
        """
        if requested is None:
            return math.ceil(5 * self.layers / 8)
        if not 1 <= requested <= self.layers:
            raise InputError(self.source, f"features_layer {requested} is beyond the model's {self.layers} "
                                          f"transformer layers (choose 1 to {self.layers})")
        return requested

    def save(self, path: Path) -> None:
        """Write the torchaudio format (what `load_checkpoint(path, CheckpointFormat.torchaudio)` reads)."""
        torch.save({"config": self.config, "state_dict": {k: v.cpu() for k, v in self.model.state_dict().items()},
                    "normalize_waveform": self.normalize_waveform}, Path(path))


def build_encoder(config: dict[str, Any], state: dict[str, torch.Tensor], normalize_waveform: bool,
                  source: object) -> SslEncoder:
    """torchaudio's `wav2vec2_model(**config)` with `state` loaded strictly, in eval mode.

    Raises InputError naming `source` when the config does not build a model or the tensors
    do not fit it (missing, unexpected or mis-shaped ones).
    """
    config = {k: v for k, v in config.items() if k != "aux_num_out"}
    config = {**{k: 0.0 for k in _DROPOUTS}, **config}
    if config.get("extractor_conv_layer_config") is not None:
        config["extractor_conv_layer_config"] = [tuple(int(x) for x in c)
                                                 for c in config["extractor_conv_layer_config"]]
    try:
        model = wav2vec2_model(**config, aux_num_out=None)
    except (TypeError, ValueError, KeyError, RuntimeError) as e:
        raise InputError(source, f"its config does not describe a wav2vec 2.0 / HuBERT model ({e})") from e
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # tensors of the wrong shape
        raise InputError(source, f"its weights do not fit its config ({_first_line(e)})") from e
    problems = []
    if result.missing_keys:
        problems.append(f"{len(result.missing_keys)} tensors missing (e.g. {result.missing_keys[0]})")
    if result.unexpected_keys:
        problems.append(f"{len(result.unexpected_keys)} unexpected (e.g. {result.unexpected_keys[0]})")
    if problems:
        raise InputError(source, f"its weights do not fit its config: {'; '.join(problems)}")
    return SslEncoder(model.eval(), config, bool(normalize_waveform), str(source))


def _fine_tuned(source: object) -> InputError:
    return InputError(source, "is fine-tuned on transcripts (it has a CTC output layer): unsupervised "
                              "recognition needs the self-supervised checkpoint it started from")


# ---- torchaudio format ----------------------------------------------------------------------

def _looks_fairseq(ckpt: Any) -> bool:
    return isinstance(ckpt, dict) and "model" in ckpt and bool({"cfg", "args"} & set(ckpt))


def _is_fairseq_file(path: Path) -> bool:
    try:
        return _looks_fairseq(torch.load(path, map_location="cpu", weights_only=False, pickle_module=_TOLERANT_PICKLE))
    except Exception:  # not readable that way either
        return False


def _load_torchaudio(path: Path) -> SslEncoder:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle, zip and torch errors all mean the same to the user
        why = _why(e, path)
        if isinstance(e, pickle.UnpicklingError) and _first_line(e).startswith("Weights only load failed"):
            if _is_fairseq_file(path):  # objects beyond tensors and plain data: say what it is
                raise InputError(path, "is a fairseq checkpoint, not a torchaudio one: set "
                                       "features_format = 'fairseq'") from None
            if zipfile.is_zipfile(path):
                why = "it holds pickled objects other than tensors and plain data"
        raise InputError(path, f"cannot be read as a torchaudio checkpoint ({why})") from e
    if not isinstance(ckpt, dict) or not {"config", "state_dict"} <= set(ckpt):
        hint = " (it looks like a fairseq checkpoint: set features_format = 'fairseq')" if _looks_fairseq(ckpt) else ""
        raise InputError(path, f"is not a torchaudio checkpoint: expected a dict with 'config' and "
                               f"'state_dict'{hint}")
    config, state = ckpt["config"], ckpt["state_dict"]
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise InputError(path, "is not a torchaudio checkpoint: 'config' and 'state_dict' must be dicts")
    if config.get("aux_num_out") is not None or any(k.startswith("aux.") for k in state):
        raise _fine_tuned(path)
    return build_encoder(config, state, ckpt.get("normalize_waveform", False), path)


# ---- fairseq format -------------------------------------------------------------------------

class _Opaque:
    """Stands in for a class of a library that is not installed here (fairseq's meters,
    dictionaries, enums in a checkpoint's training state): its data is kept, none of its code
    runs. The checkpoint parts that matter hold only tensors, dicts and plain values."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Opaque":
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, value: Any) -> None:
        self.__dict__.setdefault("values", []).append(value)

    def extend(self, values: Any) -> None:
        self.__dict__.setdefault("values", []).extend(values)


def _allowed_globals() -> dict[str, Any]:
    # What torch's own weights_only loader trusts (tensors, storages, dtypes, OrderedDict), plus
    # argparse.Namespace: old fairseq checkpoints keep their settings in one.
    from torch._weights_only_unpickler import _get_allowed_globals

    return {**_get_allowed_globals(), "argparse.Namespace": Namespace}


class _TolerantUnpickler(pickle.Unpickler):
    """Unpickles the classes torch trusts and replaces every other class or function with an
    inert `_Opaque`: fairseq checkpoints pickle fairseq objects, and fairseq is not installed
    (nor is its code wanted: unpickling arbitrary globals runs arbitrary code)."""

    _allowed: dict[str, Any] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if _TolerantUnpickler._allowed is None:
            _TolerantUnpickler._allowed = _allowed_globals()
        found = _TolerantUnpickler._allowed.get(f"{module}.{name}")
        return found if found is not None else type(f"{module}.{name}", (_Opaque,), {})


def _tolerant_load(file: Any, **kwargs: Any) -> Any:
    return _TolerantUnpickler(file, **kwargs).load()


# torch.load's `pickle_module`: what it needs of one (Unpickler, and load for the legacy format)
_TOLERANT_PICKLE = SimpleNamespace(Unpickler=_TolerantUnpickler, load=_tolerant_load, __name__="tolerant_pickle")


def _conv_layers(expr: str, source: object) -> list[tuple[int, int, int]]:
    """fairseq's `conv_feature_layers`, e.g. "[(512, 10, 5)] + [(512, 3, 2)] * 4", evaluated
    without eval(): lists of int triples joined by + and repeated by *."""
    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [value(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            a, b = value(node.left), value(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b
        raise ValueError(f"unsupported expression {ast.dump(node)[:60]}")

    try:
        layers = value(ast.parse(str(expr), mode="eval").body)
        out = [tuple(int(x) for x in layer) for layer in layers]
        if not out or any(len(t) != 3 for t in out):
            raise ValueError("expected (dim, kernel, stride) triples")
        return out
    except (SyntaxError, ValueError, TypeError) as e:
        raise InputError(source, f"unreadable conv_feature_layers {str(expr)[:80]!r} ({e})") from e


def _as_dict(x: Any) -> dict[str, Any]:
    if isinstance(x, Namespace):
        return vars(x)
    return x if isinstance(x, dict) else {}


def fairseq_config(ckpt: dict[str, Any], source: object) -> tuple[dict[str, Any], bool]:
    """(wav2vec2_model keyword arguments, normalize_waveform) from a fairseq checkpoint's 'cfg'
    (fairseq >= 0.10: {'model': {...}, 'task': {...}}) or legacy 'args' (one Namespace)."""
    cfg = _as_dict(ckpt.get("cfg"))
    if cfg:
        model, task = _as_dict(cfg.get("model")), _as_dict(cfg.get("task"))
    else:
        model = task = _as_dict(ckpt.get("args"))
    if not model:
        raise InputError(source, "is not a fairseq checkpoint: no model settings under 'cfg' or 'args'")
    arch = str(model.get("_name") or model.get("arch") or "")
    if model.get("w2v_args") is not None or model.get("w2v_path") is not None or arch.endswith("_ctc"):
        raise _fine_tuned(source)
    if not arch.startswith(("wav2vec2", "hubert")):
        raise InputError(source, f"holds a fairseq {arch or 'unknown'!s} model; wav2vec 2.0, HuBERT and "
                                 f"XLS-R pretraining checkpoints are supported")
    m = {**_FAIRSEQ_DEFAULTS, **{k: v for k, v in model.items() if v is not None}}
    if m.get("layer_type", "transformer") != "transformer" or int(m.get("pos_conv_depth", 1)) != 1:
        raise InputError(source, "uses a transformer variant torchaudio cannot build (layer_type "
                                 f"{m.get('layer_type')!r}, pos_conv_depth {m.get('pos_conv_depth')})")
    modes = {"default": "group_norm", "layer_norm": "layer_norm"}
    if m["extractor_mode"] not in modes:
        raise InputError(source, f"unknown extractor_mode {m['extractor_mode']!r}")
    config = {
        "extractor_mode": modes[m["extractor_mode"]],
        "extractor_conv_layer_config": _conv_layers(m["conv_feature_layers"], source),
        "extractor_conv_bias": bool(m["conv_bias"]), "encoder_embed_dim": int(m["encoder_embed_dim"]),
        "encoder_projection_dropout": float(m["dropout_input"]), "encoder_pos_conv_kernel": int(m["conv_pos"]),
        "encoder_pos_conv_groups": int(m["conv_pos_groups"]), "encoder_num_layers": int(m["encoder_layers"]),
        "encoder_num_heads": int(m["encoder_attention_heads"]),
        "encoder_attention_dropout": float(m["attention_dropout"]),
        "encoder_ff_interm_features": int(m["encoder_ffn_embed_dim"]),
        "encoder_ff_interm_dropout": float(m["activation_dropout"]), "encoder_dropout": float(m["dropout"]),
        "encoder_layer_norm_first": bool(m["layer_norm_first"]), "encoder_layer_drop": float(m["encoder_layerdrop"]),
    }
    return config, bool(task.get("normalize", False))


def _load_fairseq(path: Path) -> SslEncoder:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_TOLERANT_PICKLE)
    except Exception as e:  # pickle, zip and torch errors all mean the same to the user
        raise InputError(path, f"cannot be read as a fairseq checkpoint ({_why(e, path)})") from e
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise InputError(path, "is not a fairseq checkpoint: expected a dict with 'model' weights")
    config, normalize = fairseq_config(ckpt, path)
    weights = ckpt["model"]
    if any(k.startswith(("w2v_encoder.", "proj.")) for k in weights):
        raise _fine_tuned(path)
    try:
        state = _convert_state_dict(weights)
    except ValueError as e:  # torchaudio names the first key it cannot place
        raise InputError(path, f"holds weights torchaudio cannot place ({e})") from e
    state.pop("label_embs_concat", None)  # HuBERT's pretraining targets
    return build_encoder(config, state, normalize, path)


# ---- Hugging Face format --------------------------------------------------------------------

_HF_PREFIXES = ("wav2vec2.", "hubert.")  # base model inside *ForPreTraining / *ForCTC


def _hf_key(key: str) -> str | None:
    """A transformers Wav2Vec2/HuBERT key as torchaudio names it (None: a pretraining head or
    mask embedding, unused for features). The submodules match one to one, as torchaudio's
    `_build` loads them: feature_extractor, feature_projection -> encoder.feature_projection,
    encoder -> encoder.transformer."""
    for prefix in _HF_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    if key.startswith("feature_extractor."):
        return key
    if key.startswith("feature_projection."):
        return "encoder." + key
    if key.startswith("encoder."):
        return "encoder.transformer." + key[len("encoder."):]
    return None


def _hf_weights_file(directory: Path) -> Path:
    """pytorch_model.bin, else model.safetensors (what transformers' save_pretrained writes)."""
    for name in ("pytorch_model.bin", "model.safetensors"):
        if (directory / name).is_file():
            return directory / name
    sharded = sorted(p.name for p in directory.glob("*.index.json"))
    raise InputError(directory, "holds no pytorch_model.bin or model.safetensors"
                                + (f" (sharded weights, {sharded[0]}, are not supported: save them as one file)"
                                   if sharded else ""))


def _hf_weights(directory: Path) -> dict[str, torch.Tensor]:
    weights_file = _hf_weights_file(directory)
    bin_file, safe_file = directory / "pytorch_model.bin", directory / "model.safetensors"
    if weights_file == bin_file:
        try:
            return torch.load(bin_file, map_location="cpu", weights_only=True)
        except Exception as e:  # pickle, zip and torch errors all mean the same to the user
            raise InputError(bin_file, f"cannot be read as PyTorch weights ({_why(e, bin_file)})") from e
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise InputError(safe_file, "needs the `safetensors` package (pip install safetensors), or save "
                                    "the model with safe_serialization=False (pytorch_model.bin)") from None
    try:
        return load_file(str(safe_file))
    except Exception as e:  # safetensors raises its own error types
        raise InputError(safe_file, f"cannot be read as safetensors ({_first_line(e)})") from e


def _load_huggingface(directory: Path) -> SslEncoder:
    if not directory.is_dir():
        raise InputError(directory, "is not a Hugging Face model directory (config.json and weights)")
    config_file = directory / "config.json"
    try:
        hf = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(config_file, f"cannot be read as a JSON model config ({_first_line(e)})") from e
    if not isinstance(hf, dict):
        raise InputError(config_file, "is not a JSON object")
    kind = hf.get("model_type")
    if kind not in ("wav2vec2", "hubert"):
        raise InputError(config_file, f"model_type {kind!r}: wav2vec2 and hubert models are supported")
    if any(a.endswith("ForCTC") for a in hf.get("architectures") or []):
        raise _fine_tuned(directory)
    try:
        config = _get_config(SimpleNamespace(**hf))
    except AttributeError as e:
        raise InputError(config_file, f"lacks a setting torchaudio needs ({e})") from e
    weights = _hf_weights(directory)
    if not isinstance(weights, dict):
        raise InputError(directory, "its weights file does not hold a state dict")
    if any(k.startswith("lm_head.") for k in weights):
        raise _fine_tuned(directory)
    state = {new: v for k, v in weights.items() if (new := _hf_key(k)) is not None}
    # transformers normalises the waveform when the feature extractor says so; its default
    # follows the conv front's norm (the layer-norm models were pretrained on normalised audio)
    normalize = config["extractor_mode"] == "layer_norm"
    pre = directory / "preprocessor_config.json"
    if pre.is_file():
        try:
            normalize = bool(json.loads(pre.read_text(encoding="utf-8")).get("do_normalize", normalize))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise InputError(pre, f"cannot be read as JSON ({_first_line(e)})") from e
    return build_encoder(config, state, normalize, directory)


def _why(e: Exception, path: Path) -> str:
    """What went wrong reading a torch.save file, in a few words."""
    if not isinstance(e, (EOFError, RuntimeError)) and not zipfile.is_zipfile(path):
        return "not a complete file written by torch.save"  # the legacy reader's errors say nothing useful
    return _first_line(e)


def _first_line(e: Exception) -> str:
    """An error's message, in a few words."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines()  # torch colours some messages
    text = lines[0] if lines else ""
    if isinstance(e, EOFError) or not text:
        return "empty or truncated"
    return text[:160]


def checkpoint_files(path: Path | str, fmt: CheckpointFormat) -> list[Path]:
    """The files `load_checkpoint` reads (a Hugging Face directory may hold other frameworks'
    copies of the weights): what a cache key should hash. Raises InputError when missing."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such checkpoint")
    if CheckpointFormat(fmt) is not CheckpointFormat.huggingface or not path.is_dir():
        return [path]
    configs = [path / name for name in ("config.json", "preprocessor_config.json") if (path / name).is_file()]
    return configs + [_hf_weights_file(path)]


def load_checkpoint(path: Path | str, fmt: CheckpointFormat) -> SslEncoder:
    """Rebuild a pretrained wav2vec 2.0 / HuBERT / XLS-R model from `path` in format `fmt`.

    Raises InputError naming the file when it is missing, unreadable, of another format, not a
    wav2vec 2.0 / HuBERT model, or fine-tuned on transcripts.
    """
    path = Path(path)
    fmt = CheckpointFormat(fmt)
    if not path.exists():
        raise InputError(path, "no such checkpoint")
    if fmt is CheckpointFormat.huggingface:
        return _load_huggingface(path)
    if not path.is_file():
        raise InputError(path, f"is a directory, not a {fmt.value} checkpoint file"
                               + (" (set features_format = 'huggingface')" if (path / "config.json").is_file() else ""))
    return _load_fairseq(path) if fmt is CheckpointFormat.fairseq else _load_torchaudio(path)


def encode(wave: torch.Tensor, encoder: SslEncoder, layer: int | None, device: torch.device,
           chunk_s: float = 30.0, source: str = "waveform") -> torch.Tensor:
    """Output of transformer layer `layer` (1-based; None: `SslEncoder.layer`'s default) for one
    utterance.

    wave: (samples,) float mono at 16 kHz. Returns float32 (frames, encoder.dim) on the CPU,
    frames = encoder.frames(samples), one every `encoder.stride` samples (20 ms for wav2vec 2.0 /
    HuBERT). Audio longer than `chunk_s` is encoded in chunks that each see CONTEXT_S more on
    both sides (attention memory grows with the square of the length). Raises InputError naming
    `source` for audio shorter than the model's receptive field.
    """
    if wave.dim() != 1 or wave.numel() == 0:
        raise InputError(source, f"expected a non-empty mono waveform, got shape {tuple(wave.shape)}")
    total = encoder.frames(wave.numel())
    if total < 1:
        raise InputError(source, f"too short: {wave.numel()} samples ({1000 * wave.numel() / SAMPLE_RATE:.1f} ms), "
                                 f"shorter than the model's {1000 * encoder.receptive_field / SAMPLE_RATE:g} ms "
                                 f"receptive field")
    layer = encoder.layer(layer)
    stride, field = encoder.stride, encoder.receptive_field
    chunk = max(1, int(chunk_s * SAMPLE_RATE) // stride)      # frames kept per chunk
    context = int(CONTEXT_S * SAMPLE_RATE) // stride          # frames seen, not kept, each side
    model = encoder.model.to(device).eval()
    parts = []
    with torch.inference_mode():
        x = wave.to(device=device, dtype=torch.float32)
        if encoder.normalize_waveform:  # as the model saw its pretraining audio
            x = torch.nn.functional.layer_norm(x, x.shape)
        for a in range(0, total, chunk):
            lo, hi = max(0, a - context), min(total, a + chunk + context)
            # frames lo..hi-1 need exactly these samples: (hi - lo - 1) strides plus one receptive field
            piece = x if total <= chunk else x[lo * stride:(hi - 1) * stride + field]
            out = model.extract_features(piece[None], num_layers=layer)[0][layer - 1][0]
            parts.append(out[a - lo:a - lo + min(chunk, total - a)].float().cpu())
    return torch.cat(parts).clone()  # a normal tensor (inference tensors refuse in-place use later)
