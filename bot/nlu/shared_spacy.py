"""SpacyNLP that loads each spaCy model once per process.

Rasa's graph loads a ``SpacyNLP`` node twice at start-up (the provider and the
message processor); with the German lookup lemmatizer each copy costs ~140 MB and
~1 s. This subclass shares one loaded model between both.

It keeps the class name ``SpacyNLP`` on purpose: Rasa's recipe finds the model
provider for ``SpacyTokenizer`` by that name (``model_from="SpacyNLP"``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(RasaSpacyNLP):
    """Provides the spaCy model to other components, loading it once per process."""

    @staticmethod
    @lru_cache(maxsize=4)
    def load_model(spacy_model_name: Text) -> SpacyModel:
        """Loads the model, or returns the one loaded before (see parent class for full docstring)."""
        return RasaSpacyNLP.load_model(spacy_model_name)
