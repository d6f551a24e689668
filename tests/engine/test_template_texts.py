"""Template descriptions say each thing once (the export copies them into file headers)."""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path

import pytest

from engine.project.project import load
from tests.helpers import TEMPLATES


def sentences(text: str) -> list[str]:
    """Sentences and clauses (split at . ! ? : ; and line breaks) of four words or more."""
    parts = re.split(r"(?<=[.!?:;])\s+|\n", text)
    return [p for p in parts if len(re.findall(r"\w+", p)) >= 4]


def likeness(a: str, b: str) -> float:
    """0 … 1: how much of two sentences' word sequences is shared."""
    words_a, words_b = re.findall(r"\w+", a.lower()), re.findall(r"\w+", b.lower())
    return difflib.SequenceMatcher(None, words_a, words_b).ratio()


def test_a_restated_sentence_is_caught() -> None:
    # The cnn_digits text as it was: the summary line, then the same sentence reworded.
    text = (
        "A small CNN reads real handwritten digits (8×8, 0–9) and gets about 98% right.\n"
        "A small convolutional network reads real handwritten digits (8×8 grey images, 0–9)."
    )
    assert likeness(*sentences(text)) > 0.4


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_no_template_description_says_the_same_sentence_twice(path: Path) -> None:
    description = load(path).description
    assert description.strip()
    for a, b in itertools.combinations(sentences(description), 2):
        assert likeness(a, b) <= 0.4, f"{path.name} says this twice:\n  {a}\n  {b}"
