"""Sizes typed by people turn into whole MB, and bad input says what is wrong."""

from __future__ import annotations

import pytest

from hvmem.units import format_mb, parse_size_mb


@pytest.mark.parametrize(
    ("text", "mb"),
    [
        ("4096", 4096),
        ("4096MB", 4096),
        ("4096 mb", 4096),
        (" 4GB ", 4096),
        ("4 gb", 4096),
        ("1.5GB", 1536),
        ("0.5 GB", 512),
        ("1TB", 1048576),
        ("12 TB", 12582912),
        ("240tb", 251658240),
        ("0", 0),
        ("31", 31),  # parsing takes it; the rules reject it later with a reason
    ],
)
def test_sizes_parse_to_whole_mb(text: str, mb: int) -> None:
    assert parse_size_mb(text) == mb


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-4096", "negative"),
        ("-1GB", "negative"),
        ("1.5", "whole number of MB"),
        ("1.0001GB", "whole number of MB"),
        ("4 KB", "unit"),
        ("4 GiBs", "unit"),
        ("four", "not a memory size"),
        ("", "not a memory size"),
        ("4 096", "not a memory size"),
        ("4GB2", "not a memory size"),
    ],
)
def test_bad_sizes_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_size_mb(text)


def test_format_is_whole_mb_everywhere() -> None:
    assert format_mb(4096) == "4096 MB"
    assert format_mb(1048576) == "1048576 MB"
