"""The numbers a quoted text states, so that a fact's numbers can be checked against its quote.

A curator types ``patients: 11``; the document says "Eleven patients", "8 of 11", "73%"
or "1 × 10^7 cells". Every number a fact states must occur in its evidence, or a typo
("68" for "86") would be published as what the document says. This module reads the
numbers a text writes:

- digits, with a decimal part and thousands separators ("11", "48.6", "1,200");
- percentages ("73%" states 73);
- scientific notation ("8 × 10^7", "1 x 10^5", "9×10⁸", "2.5e6") as one number, whose
  mantissa and exponent are not numbers of their own;
- number words up to ninety-nine ("Eleven", "twenty-four"), and "no", "none" and "zero"
  for a count of zero.

Digits that are part of a name are not numbers: "CD19", "NCT03056339", "IL-15", "2B4", "4-1BB".
No library reads numbers in running English text this way without a language model
(spaCy's ``like_num`` says whether a token looks like a number, not which); these rules
are small and tested case by case (``tests/test_numbers.py``).
"""

from __future__ import annotations

import re
from decimal import Decimal, Underflow, localcontext

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORDS = {word: index for index, word in enumerate(_UNITS)} | _TENS | {"no": 0, "none": 0}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")

# A number is not part of a name: no letter, digit, point or letter-and-hyphen ("IL-15") before
# it, no letter or digit right after it ("2B4"), nor a hyphen and a name ("4-1BB"; "545-553" is
# two numbers).
_START = r"(?<![\w.])(?<![^\W\d_]-)"
_DECIMAL = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCIENTIFIC = re.compile(
    _START + rf"({_DECIMAL})\s*[×xX*]\s*10\s*(?:\^\s*([-−]?\d+)|([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))(?![\w.])"
    + rf"|{_START}(\d+(?:\.\d+)?)[eE]([-+]?\d+)(?![\w.])"
)
_PLAIN = re.compile(_START + rf"({_DECIMAL})(?![^\W_]|\.\d|-\d+[^\W\d_])")
_WORD = re.compile(
    r"\b(" + "|".join(sorted(_TENS, key=len, reverse=True)) + r")[- ](one|two|three|four|five|six|seven|eight|nine)\b"
    r"|\b(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def numbers_in(text: str) -> set[Decimal]:
    """Every number ``text`` states (see the module docstring), as exact decimals.

    >>> sorted(numbers_in("Of the 11 patients, 8 (73%) had a response"))
    [Decimal('8'), Decimal('11'), Decimal('73')]
    >>> sorted(numbers_in("1 × 10^7 CAR NK cells per kilogram; CD19-positive"))
    [Decimal('1E+7')]
    >>> sorted(numbers_in("Eleven patients, twenty-four hours"))
    [Decimal('11'), Decimal('24')]
    """
    found: set[Decimal] = set()
    spans: list[tuple[int, int]] = []
    for match in _SCIENTIFIC.finditer(text):
        mantissa, exponent = match.group(1) or match.group(4), match.group(2) or match.group(3) or match.group(5)
        exponent = exponent.translate(_SUPERSCRIPTS).replace("−", "-")
        spans.append(match.span())  # its mantissa and exponent are not numbers, whatever its value
        try:
            with localcontext() as context:
                context.traps[Underflow] = True  # not a zero: a number too small to hold
                found.add(_decimal(mantissa) * Decimal(10) ** int(exponent))
        except (ArithmeticError, ValueError):  # beyond what a decimal holds, or an exponent too long to read
            continue
    for match in _PLAIN.finditer(text):
        if not any(start <= match.start() < end for start, end in spans):
            found.add(_decimal(match.group(1)))
    for match in _WORD.finditer(text):
        if match.group(1):
            found.add(Decimal(_TENS[match.group(1).lower()] + _WORDS[match.group(2).lower()]))
        else:
            found.add(Decimal(_WORDS[match.group(3).lower()]))
    return {number.normalize() for number in found}


def states(text: str, number: int | Decimal) -> bool:
    """Whether ``text`` states ``number`` (:func:`numbers_in`)."""
    return Decimal(number).normalize() in numbers_in(text)


def number_value(text: str) -> Decimal | None:
    """The number that ``text`` is, written as a curator types it ("48.6", "1 × 10^5", "2.5e6"), else None.

    >>> number_value("1 × 10^5"), number_value("48.6"), number_value("about 5")
    (Decimal('1E+5'), Decimal('48.6'), None)
    """
    text = text.strip()
    for pattern in (_SCIENTIFIC, _PLAIN):
        match = pattern.fullmatch(text)
        if match:
            found = numbers_in(text)
            return next(iter(found)) if len(found) == 1 else None
    return None


def _decimal(digits: str) -> Decimal:
    return Decimal(digits.replace(",", ""))


__all__ = ["number_value", "numbers_in", "states"]
