"""Unicode rules for ids and text: which code points are invisible or controls, as vectorised Arrow masks."""

from __future__ import annotations

import functools
import unicodedata
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _np(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


# Code points that render as nothing (or as a blank) though Unicode files them as letters or symbols.
LOOKS_BLANK = "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180e\u2060\ufeff"
# In ids: controls, format characters (zero-width, bidi), private use, unassigned, and every space but U+0020.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Zs"})


@functools.cache
def _code_point_class(categories: frozenset[str], extra: str = "", allowed: str = "") -> str:
    """An RE2 character class of the code points in `categories` by Python's unicodedata, + extra.

    Built once per process (about 0.2 s over all of Unicode) when the first id is checked; surrogates are left
    out (strict UTF-8 decoding never yields them).
    """
    ranges: list[tuple[int, int]] = []
    for point in range(0x110000):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        if (unicodedata.category(char) in categories or char in extra) and char not in allowed:
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return "[" + "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def _invisible_class() -> str:
    return _code_point_class(INVISIBLE_CATEGORIES, LOOKS_BLANK, allowed=" ")


def on_rows(rows: np.ndarray, array: pa.Array | pa.ChunkedArray,
            check: Callable[[pa.Array | pa.ChunkedArray], np.ndarray]) -> np.ndarray:
    """check() on the given rows only (a cheap test picked them), False elsewhere: regexes cost per row."""
    mask = np.zeros(len(rows), dtype=bool)
    positions = np.flatnonzero(rows)
    if len(positions):
        mask[positions] = check(pc.take(array, pa.array(positions)))
    return mask


def invisible_in_ids(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Ids with a control or invisible code point, or only combining marks."""
    ascii_only = _np(pc.string_is_ascii(array))
    mask = ascii_only & ~_np(pc.utf8_is_printable(array))  # in ASCII only the controls are invisible
    # The Unicode classes (hundreds of ranges) only for the rare non-ASCII ids: 1M ids once took 0.25 s here.
    return mask | on_rows(~ascii_only, array,
                          lambda part: _np(pc.match_substring_regex(part, _invisible_class())) | _marks_only(part))


def _marks_only(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Ids made only of combining marks (they render as nothing, or on the character before them)."""
    # Only ids that start with a mark are checked whole, in Python: they are rare.
    first = pc.utf8_slice_codeunits(array, 0, 1)
    mask = _np(pc.match_substring_regex(first, _code_point_class(frozenset({"Mn", "Me"}))))
    for pos in np.flatnonzero(mask):
        value = array[int(pos)].as_py()
        mask[pos] = all(unicodedata.category(char) in ("Mn", "Me") for char in value)
    return mask


def text_controls(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Text with NUL, other C0/C1 controls (terminal escape sequences) or bidirectional overrides (Trojan Source).

    Free text may hold tabs and (quoted) line breaks.
    """
    return _np(pc.match_substring_regex(array, _TEXT_CONTROLS))


_TEXT_CONTROLS = "[\\x{0}-\\x{8}\\x{b}\\x{c}\\x{e}-\\x{1f}\\x{7f}-\\x{9f}\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]"
