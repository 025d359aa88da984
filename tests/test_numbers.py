"""What numbers a quote states: each case is a text and the exact set of numbers read from it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carnk_ld.numbers import numbers_in, states

CASES = [
    ("digits and a percentage", "Of the 11 patients, 8 (73%) had a response, and 7 of these", {"8", "11", "73", "7"}),
    ("decimals", "The overall response rate was 48.6% at day 30", {"48.6", "30"}),
    ("thousands separators", "1,200 patients", {"1200"}),
    ("scientific notation", "1 × 10^5, 1 × 10^6 or 1 × 10^7 CAR NK cells", {"1e5", "1e6", "1e7"}),
    ("letter x and superscripts", "8 x 10^7 cells, 9×10⁸ cells", {"8e7", "9e8"}),
    ("e notation", "2.5e6 cells", {"2.5e6"}),
    ("the parts of a power are not numbers", "three infusions of 9 × 10^8 cells", {"3", "9e8"}),
    ("names with digits are not numbers", "CD19-positive, NCT03056339, IL-15, 2B4, CD3ζ, HLA-A, 4-1BB", set()),
    ("number words", "Eleven patients, twenty-four hours, thirty one days", {"11", "24", "31"}),
    ("no and none are zero", "No neurotoxicity was observed; none had GvHD", {"0"}),
    ("page ranges and years", "N Engl J Med 2020;382:545-553", {"2020", "382", "545", "553"}),
    ("a phase", "a phase 1/2 trial", {"1", "2"}),
    ("a number ending a sentence", "patients treated were 86.", {"86"}),
    ("a power beyond any decimal states nothing", "1e99999999 cells, 1 × 10^99999999 cells, 2e-99999999", set()),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_numbers_a_text_states(text: str, expected: set[str]) -> None:
    assert numbers_in(text) == {Decimal(n).normalize() for n in expected}


def test_a_typo_is_not_stated() -> None:
    assert states("86 patients", 86)
    assert not states("86 patients", 68)
    assert not states("complete responses in 8 of 11 patients", 7)
