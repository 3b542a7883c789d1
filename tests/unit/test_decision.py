"""The decision function shared by the live bot and the evaluation."""

from __future__ import annotations

import pytest

from bot.decision import ANSWER, CLARIFY, HANDOFF, DecisionConfig
from bot.decision.policy import decide
from bot.retrieval.index import Candidate

CONFIG = DecisionConfig(answer_threshold=0.85, clarify_threshold=0.75, min_margin=0.03, max_choices=3, max_misses=2)


def cands(*scores: float) -> list[Candidate]:
    return [Candidate(f"faq-{i}", s, f"Titel {i}", "", "de", "https://x.example") for i, s in enumerate(scores)]


def test_confident_with_margin_answers() -> None:
    decision = decide(cands(0.9, 0.8), CONFIG)
    assert (decision.action, decision.faq_id, decision.reason) == (ANSWER, "faq-0", "confident")


def test_close_runner_up_clarifies_with_the_close_choices() -> None:
    decision = decide(cands(0.9, 0.89, 0.8, 0.5), CONFIG)
    assert decision.action == CLARIFY and decision.reason == "ambiguous"
    assert [c.faq_id for c in decision.choices] == ["faq-0", "faq-1", "faq-2"]


def test_middle_scores_clarify_and_offer_at_least_two() -> None:
    decision = decide(cands(0.8, 0.6), CONFIG)
    assert decision.action == CLARIFY and len(decision.choices) == 2


def test_low_scores_hand_off() -> None:
    assert decide(cands(0.7, 0.6), CONFIG).reason == "low_confidence"
    assert decide([], CONFIG).action == HANDOFF


def test_repeated_miss_hands_off_instead_of_clarifying_again() -> None:
    assert decide(cands(0.8, 0.6), CONFIG, misses_before=1).reason == "repeated_miss"
    assert decide(cands(0.95, 0.6), CONFIG, misses_before=5).action == ANSWER


def test_explicit_wishes_win() -> None:
    assert decide(cands(0.99), CONFIG, asked_for_human=True).reason == "asked_for_human"
    assert decide(cands(0.99), CONFIG, not_helpful=True).reason == "not_helpful"
    assert decide(cands(0.99), CONFIG, choices_rejected=True).reason == "choices_rejected"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"answer_threshold": 1.5}, "answer_threshold"),
        ({"clarify_threshold": 0.9, "answer_threshold": 0.8}, "must not exceed"),
        ({"min_margin": -0.1}, "min_margin"),
        ({"max_choices": 1}, "max_choices"),
        ({"max_misses": 0}, "max_misses"),
    ],
)
def test_config_is_validated_naming_the_bad_value(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecisionConfig(**kwargs)
