"""Reading teacher answers: JSON pairs, labelled text, scores; near-duplicate detection."""

from __future__ import annotations

import json

import pytest

from teachers.base import Malformed, retry_after_seconds
from teachers.dedupe import Deduper, jaccard, normalise, shingles
from teachers.parse import extract_json, parse_pairs, parse_score


def test_json_pairs_in_every_usual_wrapping():
    pairs = [{"prompt": "Hi", "answer": "Hello"}, {"prompt": "Bye", "answer": "See you"}]
    want = [("Hi", "Hello"), ("Bye", "See you")]
    for text in (json.dumps({"pairs": pairs}),
                 "Sure! ```json\n" + json.dumps({"pairs": pairs}) + "\n```",
                 "Here you go: " + json.dumps(pairs) + " Enjoy.",
                 json.dumps([{"question": "Hi", "answer": "Hello"},
                             {"Q": "Bye", "A": "See you"}])):
        assert parse_pairs(text) == (want, 0), text


def test_text_pairs_with_labels_and_multiline_answers():
    text = ("Here are some pairs:\n1. Q: What is 2+2?\nA: 4.\n\n"
            "**Question:** Name a colour\n**Answer:** Blue,\nor red.\n"
            "Prompt: Say hi\nResponse: Hi!")
    pairs, rejected = parse_pairs(text)
    assert pairs == [("What is 2+2?", "4."), ("Name a colour", "Blue,\nor red."),
                     ("Say hi", "Hi!")]
    assert rejected == 0


def test_invalid_pairs_are_counted_and_nothing_valid_is_malformed():
    text = json.dumps({"pairs": [{"prompt": "ok", "answer": "fine"}, {"prompt": "", "answer": "x"},
                                 {"prompt": "x" * 5000, "answer": "y"}, {"prompt": 3}]})
    assert parse_pairs(text) == ([("ok", "fine")], 3)
    with pytest.raises(Malformed, match="no prompt/answer pairs"):
        parse_pairs("I'd rather not.")
    with pytest.raises(Malformed):
        parse_pairs(json.dumps({"pairs": [{"prompt": "", "answer": ""}]}))


def test_scores():
    assert parse_score('{"score": 4, "reason": "good"}', 1, 5) == (4.0, "good")
    assert parse_score("Score: 3.5 - decent but vague", 1, 5)[0] == 3.5
    assert parse_score("I'd give it 2/5.", 1, 5)[0] == 2.0
    assert parse_score("0.8", 0, 1)[0] == 0.8
    with pytest.raises(Malformed, match="no score from 1 to 5"):
        parse_score('{"score": 9, "reason": "wow"}', 1, 5)
    with pytest.raises(Malformed):
        parse_score("lovely reply", 1, 5)


def test_extract_json_finds_embedded_objects():
    assert extract_json('noise {"a": [1, 2]} more {"b": 1}') == {"a": [1, 2]}
    assert extract_json("no json here") is None


def test_retry_after_headers():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


def test_near_duplicates():
    assert normalise("  Hello,   WORLD!! ") == "hello world"
    assert jaccard(shingles("abcdef"), shingles("abcdef")) == 1.0
    d = Deduper(threshold=0.85)
    d.add("What is your name?", "I am a tiny model.")
    assert d.is_near("what is your name", "I am a tiny model!")
    assert d.is_near("What is your name ?", "i am a TINY model")
    assert not d.is_near("What is your name?", "My name is Bob and I like trains.")
    assert not d.is_near("Tell me a joke", "Why did the chicken cross the road?")
    assert len(d) == 1


@pytest.mark.parametrize(("requests", "words"), [(1, "1 request (0 retried)"),
                                                 (3, "3 requests (0 retried)")])
def test_the_usage_summary_counts_requests_in_the_right_number(requests: int,
                                                               words: str) -> None:
    """`teacher test` after one request says "1 request", not "1 requests"."""
    from teachers.base import Usage

    assert Usage(requests=requests).summary().startswith(words)
