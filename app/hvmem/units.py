"""Memory sizes as people type them ("4GB", "4096") and as hvmem shows them ("4096 MB").

Hyper-V counts in binary units: a GB is 1024 MB and a TB is 1024 GB. hvmem writes every
size as whole MB ("4096 MB"), the unit Hyper-V stores and its own Memory page shows, so a
value reads the same in the window, the command line and the host's error text.
"""

from __future__ import annotations

import re
from fractions import Fraction

_MB_PER_UNIT = {"mb": 1, "gb": 1024, "tb": 1024 * 1024}

# A plain decimal number in the digits 0-9, then an optional unit; spaces around and
# between are allowed. Not "\d": it would also take "९९" or "４０９６" and turn them into
# a number the user never saw written that way.
_SIZE = re.compile(
    r"^\s*(?P<number>[+-]?[0-9]+(?:\.[0-9]+)?|[+-]?\.[0-9]+)\s*(?P<unit>[a-z]*)\s*$",
    re.IGNORECASE,
)


def parse_size_mb(text: str) -> int:
    """A size typed by a person, in whole MB.

    Args:
        text: "4096" (MB), "4096MB", "4 GB", "1.5gb", "1TB"; units are case-insensitive.

    Returns:
        The size in MB.

    Raises:
        ValueError: the text is not a size, is negative, or is not a whole number of MB;
            the message says which and shows what was typed.
    """
    match = _SIZE.match(text)
    if match is None and any(char.isdigit() and not char.isascii() for char in text):
        raise ValueError(f"{text.strip()!r} uses digits other than 0-9; write the size "
                         "with the digits 0-9, such as 4096 or 4GB")
    if match is None:
        raise ValueError(
            f"{text.strip()!r} is not a memory size; write MB or use a unit, "
            "such as 4096, 4096MB, 4GB or 1TB"
        )

    unit = match["unit"].lower() or "mb"
    if unit not in _MB_PER_UNIT:
        raise ValueError(f"{match['unit']!r} is not a unit hvmem knows; use MB, GB or TB")
    number = Fraction(match["number"])
    if number < 0:
        raise ValueError(f"{text.strip()!r} is negative; memory sizes are positive")

    mb = number * _MB_PER_UNIT[unit]
    if mb.denominator != 1:
        raise ValueError(
            f"{text.strip()!r} is not a whole number of MB ({float(mb):g} MB); "
            "Hyper-V counts memory in whole MB"
        )
    return int(mb)


def format_mb(mb: int) -> str:
    """A size for people, always in whole MB: 4096 -> "4096 MB"."""
    return f"{int(mb)} MB"
