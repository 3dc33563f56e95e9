"""Text that users type, cleaned once at the store boundary so every database and export takes it.

- Control characters other than newline and tab are removed (NUL breaks PostgreSQL, vertical
  tab and friends make a workbook invalid XML), and so are lone surrogates.
- Names are also normalised (Unicode NFKC) and their runs of white space collapsed.
- `name_key` folds a name for comparison: NFKC, case, and look-alike letters from other scripts
  (Unicode's confusables data: Cyrillic "А" is Latin "A"), so that one person gets one row.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata

from .errors import StoreError

# C0 and C1 controls except tab and newline, DEL, and lone surrogates (not encodable as UTF-8).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACE = re.compile(r"\s+")
# Bidirectional embeddings, overrides and isolates: in a one-line name they only serve to show
# it in another order than it is typed ("\u202eennA" shows as "Anne"). Removed from names.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Unicode's default-ignorable code points: drawn as nothing (zero-width space and joiners,
# direction marks, soft hyphen, variation selectors, Hangul fillers, tags...). Kept in what is
# shown, where some scripts need them, but left out of name_key: "Ann\u200b" looks like "Ann".
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff"
                        "\uffa0\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
                        "\U000e0000-\U000e0fff]")


def clean_text(text: object, what: str = "text", limit: int | None = None,
               required: bool = False) -> str:
    """Text without control characters, stripped; refused when too long (or empty if required)."""
    text = "" if text is None else str(text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if required and not text:
        raise StoreError(f"the {what} must not be empty")
    if limit is not None and len(text) > limit:
        raise StoreError(f"the {what} is limited to {limit} characters")
    return text


def clean_name(text: object, what: str = "name", limit: int | None = None,
               required: bool = True) -> str:
    """A one-line name: cleaned, NFKC-normalised, white space collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return clean_text(_SPACE.sub(" ", _BIDI.sub("", _CONTROL.sub("", text))), what, limit,
                      required)


def visible(text: str) -> str:
    """The text without the characters that are drawn as nothing (for comparing names)."""
    return _INVISIBLE.sub("", text)


@functools.cache
def _skeleton_map() -> dict[str, str]:
    """Each confusable character mapped to one representative of its class of look-alikes."""
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for char, glyphs in confusables_data.items():
        for glyph in glyphs:
            if len(char) == 1 and len(glyph["c"]) == 1:
                parent[root(glyph["c"])] = root(char)
    # Case does not tell people apart either: "O" looks like "0", so "o" must fold with both.
    # Only ASCII letters are joined with their other case: further afield, case pairs chain
    # unrelated classes together ("u" would end up with "r").
    for char in string.ascii_uppercase:
        parent[root(char.lower())] = root(char)
    classes: dict[str, list[str]] = {}
    for c in list(parent):
        classes.setdefault(root(c), []).append(c)
    mapping = {}
    for members in classes.values():
        # Prefer a plain ASCII letter or digit, so that "Аnn" (Cyrillic А) folds to "ann".
        ascii_ = sorted(c.casefold() for c in members if c.isascii() and c.isalnum())
        representative = ascii_[0] if ascii_ else min(members)
        mapping.update(dict.fromkeys(members, representative))
    return mapping


def name_key(name: str) -> str:
    """The name folded for comparison: two names with one key would look alike on screen."""
    skeleton = _skeleton_map()
    folded = visible(clean_name(name, required=False))
    # Twice: before case folding ("I" looks like "l") and after ("ı" folds on its own).
    for _ in range(2):
        folded = "".join(skeleton.get(c, c) for c in folded).casefold()
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", folded)).strip()
