"""Build the German spaCy pipeline Rasa's SpacyNLP loads.

No German spaCy model is installable here, so the pipeline is ``spacy.blank("de")``
(German tokenizer rules) plus a lookup lemmatizer whose tables come from the
``spacy-lookups-data`` package, saved to a directory that ``config.yml`` names.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def build_german_pipeline(target: Path, force: bool = False) -> Path:
    """Write the pipeline to ``target`` unless it is already there.

    Args:
        target: the output directory (``config.yml``'s SpacyNLP ``model``).
        force: rebuild even if present.

    Returns:
        ``target``.
    """
    if (target / "config.cfg").is_file() and not force:
        return target
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    nlp.meta["name"] = "auskunft_de_lookup"
    nlp.meta["description"] = "blank German pipeline with lookup lemmas (spacy-lookups-data)"
    nlp.to_disk(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
