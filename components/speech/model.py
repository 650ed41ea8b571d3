"""The packaged recogniser: everything `transcribe` needs, saved as one directory.

    config.json   feature, segmentation, generator and decoding settings, phone set, origin
    weights.pt    segmenter (PCA) and generator tensors (loadable with weights_only=True)
    lexicon.tsv   pronunciations of the unpaired text's words
    word_lm.json  word n-gram counts of the unpaired text
    encoder.pt    ssl features only: the pretrained model, in the torchaudio checkpoint format
                  (a copy, so the model never depends on the user's checkpoint path)

audio file -> 16 kHz mono -> frame features -> segments -> generator -> phones -> words.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from components.errors import InputError, UnpairedError
from components.speech.audio import read_audio
from components.speech.config import (CheckpointFormat, DecodeConfig, FeatureKind, FeaturesConfig, GeneratorConfig,
                                      SegmentConfig)
from components.speech.decode import WordDecoder, word_decoder
from components.speech.features import extract_features
from components.speech.gan import TrainedGenerator, transcribe
from components.speech.lm import NgramLM
from components.speech.phones import PHONES, decode_ids, read_lexicon, strip_silence, write_lexicon, Lexicon
from components.speech.segment import SegmentModel, segment_utterance
from components.speech.ssl import SslEncoder, load_checkpoint

FORMAT = "unpaired-speech-model/1"
ENCODER_FILE = "encoder.pt"


@dataclass
class SpeechModel:
    """A trained recogniser with its front end, phone set, lexicon and word LM."""

    features: FeaturesConfig
    segment: SegmentConfig
    segmenter: SegmentModel
    generator: GeneratorConfig
    recogniser: TrainedGenerator
    lexicon: Lexicon
    word_lm: NgramLM
    decode: DecodeConfig
    info: dict[str, Any] = field(default_factory=dict)  # origin, criterion, ... (for people)
    encoder: SslEncoder | None = None  # the pretrained model behind ssl features
    _decoder: WordDecoder | None = field(default=None, repr=False)

    def save(self, directory: Path, encoder_file: Path | None = None) -> None:
        """Write the files into `directory` (created).

        encoder_file: the encoder already saved in the torchaudio format (the store's copy): it
        is hard-linked (copied across file systems) instead of written again, as it can weigh a
        GB; `self.encoder` is then not needed.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        r = self.recogniser
        features, info = self.features, self.info
        if features.features_kind is FeatureKind.ssl:  # the model's own copy, not the user's file
            info = {**info, "encoder_source": str(features.features_checkpoint)}
            features = features.model_copy(update={"features_checkpoint": Path(ENCODER_FILE),
                                                   "features_format": CheckpointFormat.torchaudio})
        config = {"format": FORMAT, "phones": list(PHONES), "features": features.model_dump(mode="json"),
                  "segment": self.segment.model_dump(mode="json"),
                  "generator": self.generator.model_dump(mode="json"), "decode": self.decode.model_dump(mode="json"),
                  "recogniser": {"in_dim": r.in_dim, "n_phones": r.n_phones, "step": r.step, "score": r.score,
                                 "hidden": r.hidden},
                  "info": info}
        (directory / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        torch.save({"segmenter": self.segmenter.state_dict(), "generator": r.generator_state},
                   directory / "weights.pt")
        write_lexicon(self.lexicon, directory / "lexicon.tsv")
        (directory / "word_lm.json").write_text(json.dumps(self.word_lm.to_json()), encoding="utf-8")
        if self.features.features_kind is FeatureKind.ssl:
            if encoder_file is not None:
                try:
                    os.link(encoder_file, directory / ENCODER_FILE)
                except OSError:
                    shutil.copyfile(encoder_file, directory / ENCODER_FILE)
            elif self.encoder is not None:
                self.encoder.save(directory / ENCODER_FILE)
            else:
                raise ValueError("a model on ssl features needs its encoder (or encoder_file) to be saved")

    @classmethod
    def load(cls, directory: Path) -> "SpeechModel":
        """Read a saved model. Raises InputError naming the directory when it is not one."""
        directory = Path(directory)
        cfg_path = directory / "config.json"
        if not cfg_path.is_file():
            raise InputError(directory, "is not a speech model (no config.json)")
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
            if config.get("format") != FORMAT:
                raise InputError(directory, f"unknown model format {config.get('format')!r}")
            if tuple(config["phones"]) != PHONES:
                raise InputError(directory, "was trained with a different phone set")
            weights = torch.load(directory / "weights.pt", map_location="cpu", weights_only=True)
            features = FeaturesConfig(**config["features"])
            encoder = (load_checkpoint(directory / ENCODER_FILE, CheckpointFormat.torchaudio)
                       if features.features_kind is FeatureKind.ssl else None)
            r = config["recogniser"]
            recogniser = TrainedGenerator(weights["generator"], r["in_dim"], r["n_phones"], r["step"],
                                          r["score"], hidden=r["hidden"])
            return cls(features=features, segment=SegmentConfig(**config["segment"]),
                       segmenter=SegmentModel.from_state_dict(weights["segmenter"]),
                       generator=GeneratorConfig(**config["generator"]), recogniser=recogniser,
                       lexicon=read_lexicon(directory / "lexicon.tsv"),
                       word_lm=NgramLM.from_json(json.loads((directory / "word_lm.json").read_text("utf-8"))),
                       decode=DecodeConfig(**config["decode"]), info=config.get("info", {}), encoder=encoder)
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(directory, f"speech model cannot be read ({e})") from e

    def segments(self, wave: torch.Tensor, source: str = "waveform",
                 device: torch.device | None = None) -> torch.Tensor:
        """(samples,) 16 kHz mono -> (segments, dim) pooled PCA features (ssl features on `device`)."""
        feats = extract_features(wave, self.features, source=source, encoder=self.encoder, device=device)
        return segment_utterance(feats, self.segmenter, self.segment).features

    def phones(self, segments: Sequence[torch.Tensor], device: torch.device) -> list[list[str]]:
        """Phones per utterance (repeats merged, silence kept) from (segments, dim) features."""
        g = self.recogniser.generator(self.generator, device)
        return [decode_ids(h) for h in transcribe(g, list(segments), device)]

    def words(self, phones: Sequence[str]) -> list[str]:
        """Best word sequence for one utterance's phones under the lexicon and word LM."""
        if self._decoder is None:
            self._decoder = word_decoder(self.lexicon, self.word_lm, self.decode)
        return self._decoder(phones)


@dataclass(frozen=True)
class Transcription:
    """What `transcribe_files` says about one file: phones and words, or why it failed."""

    source: str
    phones: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.source, "phones": " ".join(self.phones), "words": " ".join(self.words),
                "error": self.error}


def transcribe_files(model: SpeechModel, paths: Sequence[Path | str], device: torch.device,
                     words: bool = True) -> list[Transcription]:
    """Recognise each audio file (any rate or channel count); a bad file yields a
    Transcription with `error` set and the others still run. Phones exclude silence."""
    out: list[Transcription] = []
    for p in paths:
        try:
            seg = model.segments(read_audio(p), source=str(p), device=device)
            phones = strip_silence(model.phones([seg], device)[0])
            out.append(Transcription(str(p), tuple(phones), tuple(model.words(phones)) if words else ()))
        except (InputError, UnpairedError) as e:
            out.append(Transcription(str(p), error=str(e)))
    return out
