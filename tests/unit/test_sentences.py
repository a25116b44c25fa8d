"""The sentence splitter: boundaries, abbreviations, exact offsets, and long bodies."""

from __future__ import annotations

import pytest

from streams.classifier.sentences import split_sentences


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = "The U.S. envoy met Gen. Smith in Washington. John F. Kennedy spoke.\nIt ended."
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "The U.S. envoy met Gen. Smith in Washington.",
        "John F. Kennedy spoke.",
        "It ended.",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


@pytest.mark.timeout(20)  # a hang guard: this took ~50 s when the splitter was quadratic
def test_a_body_at_the_size_limit_is_split_in_linear_time() -> None:
    text = "Officials met again. " * 9_500  # ~200 000 characters, one line
    spans = split_sentences(text)
    assert len(spans) == 9_500
    assert spans[-1].text == "Officials met again."
    assert text[spans[-1].start : spans[-1].end] == spans[-1].text
