"""The style classifier: fastText's supervised mode on the two styles' training halves."""
from __future__ import annotations

from prefect import task

from components.backtranslate.catalog import MonolingualCorpus
from components.store import ArtifactRef
from components.style.classifier import ClassifierConfig, StyleClassifier
from tasks.cache import STAGE_CACHE
from tasks.store import store


@task(name="train-style-classifier", task_run_name="train-style-classifier", cache_policy=STAGE_CACHE)
def train_style_classifier(src_corpus: ArtifactRef, tgt_corpus: ArtifactRef, styles: tuple[str, str],
                           config: ClassifierConfig) -> ArtifactRef:
    """Train on each style's training lines; its accuracy on their held-out (valid) lines goes in the meta."""
    src, tgt = (MonolingualCorpus.load(store().path(ref)) for ref in (src_corpus, tgt_corpus))
    classifier = StyleClassifier.train(src.train, tgt.train, labels=styles, config=config)
    meta = {"styles": list(styles), "valid_accuracy": round(classifier.accuracy(src.valid, tgt.valid), 4),
            "valid_sentences": [len(src.valid), len(tgt.valid)]}
    with store().writer("style-classifier", f"style-classifier-{'-'.join(styles)}", meta, directory=True) as out:
        classifier.save(out.path)
    return out.ref
