"""Typed configuration of the style-transfer pipeline: which two styles, and each stage's settings."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from components.align.config import AlignConfig, AlignStageConfig, InitMethod
from components.backtranslate.config import BacktranslateStageConfig
from components.corpus import CorpusConfig, SideConfig
from components.embeddings import EmbeddingConfig
from components.style.classifier import ClassifierConfig

_STYLE = r"^[a-z0-9]+$"  # a style names report keys and rows: lowercase letters and digits


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StyleSides(_Frozen):
    """Two non-parallel corpora of one language in two styles: built-in Bibles or the user's files.

    The first built-in translation of each side is its test side (the held-out books, verse-aligned),
    so the default scores archaic KJV against the modern WEB and back."""

    lang: str = Field("en", min_length=2, max_length=3)       # ISO 639-1 code of both sides
    src_style: str = Field("archaic", pattern=_STYLE)
    tgt_style: str = Field("modern", pattern=_STYLE)
    src_translations: tuple[str, ...] = ("kjv",)             # built-in Bibles of the source style
    tgt_translations: tuple[str, ...] = ("web", "bbe")       # ... of the target style, reference first
    src_files: tuple[Path, ...] = ()                         # the user's UTF-8 text; replaces the Bibles
    tgt_files: tuple[Path, ...] = ()
    test_files: tuple[Path, Path] | None = None              # the user's parallel test (src style, tgt style)

    @field_validator("lang")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    @property
    def name(self) -> str:
        """e.g. 'en-archaic-modern': report keys and titles."""
        return f"{self.lang}-{self.src_style}-{self.tgt_style}"

    def corpus(self, embeddings: EmbeddingConfig) -> CorpusConfig:
        """The corpus stage's config: the two styles as its two sides, one language."""
        return CorpusConfig(src=SideConfig(lang=self.lang, translations=self.src_translations, files=self.src_files),
                            tgt=SideConfig(lang=self.lang, translations=self.tgt_translations, files=self.tgt_files),
                            test_files=self.test_files, embeddings=embeddings)


# Two styles of one language share most of their spelling: identical words seed the map, and
# the other initialisations (which assume nothing) would only cost time.
STYLE_ALIGN = AlignStageConfig(methods=(InitMethod.IDENTICAL,), seeds=(0,),
                               align=AlignConfig(seeded_self_learning=False))


class StyleStageConfig(_Frozen):
    """The style-transfer pipeline: the styles, the mapping of their spaces, the generator."""

    sides: StyleSides = StyleSides()
    embeddings: EmbeddingConfig = EmbeddingConfig()                  # each style's fastText vectors
    align: AlignStageConfig = STYLE_ALIGN
    transfer: BacktranslateStageConfig = BacktranslateStageConfig()  # the translation stage's generator
    classifier: ClassifierConfig = ClassifierConfig()                # the judge of style (selection and reports)
