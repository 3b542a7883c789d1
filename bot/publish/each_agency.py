"""Build and publish every agency's index: the loop shared by ``auskunft kb build`` and the kb watcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional

from bot.config.agencies import Agency
from bot.config.settings import Settings
from bot.kb import KbValidationError
from bot.publish.build import BuildReport, build_and_publish
from bot.retrieval.index import TextEncoder

ProgressFor = Callable[[str], Optional[Callable[[int, int], None]]]


@dataclass(frozen=True)
class AgencyBuild:
    """One agency's build: its report, or the validation error that kept its last good index serving.

    Attributes:
        agency: the agency.
        label: how messages name it ("" with a single agency, else "agency KEY: ").
        report: the build report (None if the kb was rejected).
        error: why the kb was rejected (None if it was published).
    """

    agency: Agency
    label: str
    report: Optional[BuildReport] = None
    error: Optional[KbValidationError] = None


def publish_each(settings: Settings, agencies: Iterable[Agency], encoder: TextEncoder,
                 tune_for_kb: Optional[Callable[..., TextEncoder]] = None,
                 progress_for: Optional[ProgressFor] = None) -> List[AgencyBuild]:
    """Build and publish each agency's index from its kb layers; a broken kb leaves that agency's index as it was.

    Args:
        settings: where indexes and the embedding cache live.
        agencies: the agencies to build.
        encoder: the sentence encoder.
        tune_for_kb: the fine-tuning hook (:func:`bot.retrieval.assembly.kb_tuner`), None when off.
        progress_for: ``progress_for(label)`` gives a ``(done, total)`` callback for an agency's embedding step.
    """
    chosen = list(agencies)
    results = []
    for agency in chosen:
        label = "" if len(chosen) == 1 else f"agency {agency.key} ({agency.name}): "
        try:
            report = build_and_publish(agency.layers, agency.index_dir(settings.index_dir), settings.cache_dir,
                                       encoder, progress_for(label) if progress_for else None,
                                       tune_for_kb=tune_for_kb)
        except KbValidationError as err:
            results.append(AgencyBuild(agency, label, error=err))
            continue
        results.append(AgencyBuild(agency, label, report=report))
    return results
