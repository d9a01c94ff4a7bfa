"""Text that survives bad bytes: UTF-16 without a BOM, and lenient decoding that names the damage.

A crawl meets pages cut inside a character or carrying one stray byte. Refusing the whole
document for that loses every table in it, so a decode that fails on a few bytes is done
again with those bytes replaced (U+FFFD), and the damaged spans are reported as a warning.
Only a small share of damage is repaired: past it the bytes are not text in that encoding.
"""
from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass, field

MAX_DAMAGED_SHARE = 0.01  # a truncated or lightly corrupted page; a wrong encoding damages far more
MIN_DAMAGED_ALLOWED = 8  # a short file still gets a cut character or two repaired
SHOWN_SPANS = 5
UTF16_SNIFF_BYTES = 4096
UTF16_MIN_ZERO_SHARE = 0.02  # ASCII digits, tabs and markup in UTF-16 (Chinese prose has none)
UTF16_PRINTABLE_SHARE = 0.98  # and it decodes to text, where other binary data gives control characters
UTF16_PARITY_SHARE = 0.75  # most of them on the same side of the unit (一 is U+4E00: a zero on the other)

_ERROR_HANDLER = "gongkai-record-damage"
_state = threading.local()


def _record(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _state.spans.append((exc.start, exc.end))
    return "\ufffd", exc.end


codecs.register_error(_ERROR_HANDLER, _record)


@dataclass
class LenientText:
    text: str
    encoding: str
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def damaged_bytes(self) -> int:
        return sum(end - start for start, end in self.spans)

    def acceptable(self, n_bytes: int) -> bool:
        return self.damaged_bytes <= max(MIN_DAMAGED_ALLOWED, MAX_DAMAGED_SHARE * n_bytes)

    def warning(self, name: str) -> str:
        shown = ", ".join(f"{s}–{e - 1}" if e - s > 1 else f"{s}" for s, e in self.spans[:SHOWN_SPANS])
        more = f" and {len(self.spans) - SHOWN_SPANS} more spans" if len(self.spans) > SHOWN_SPANS else ""
        return (f"{name}: damaged bytes at {shown}{more} replaced with U+FFFD "
                f"({self.damaged_bytes} bytes not valid {self.encoding})")


def decode_leniently(data: bytes, encoding: str) -> LenientText | None:
    """`data` decoded with every invalid byte run replaced and recorded; None for an unknown codec."""
    _state.spans = []
    try:
        text = data.decode(encoding, errors=_ERROR_HANDLER)
    except LookupError:
        return None
    spans = _merged(_state.spans)
    _state.spans = []
    return LenientText(text=text, encoding=encoding, spans=spans)


def least_damaged(data: bytes, encodings: list[str]) -> LenientText | None:
    """The lenient decode with the fewest damaged bytes, when that damage is small enough to repair."""
    decoded = [d for d in (decode_leniently(data, e) for e in dict.fromkeys(encodings)) if d is not None]
    best = min(decoded, key=lambda d: d.damaged_bytes, default=None)
    return best if best is not None and best.acceptable(len(data)) else None


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes are UTF-16 text that lost its BOM, else None.

    Markup, digits and tabs are ASCII, so UTF-16 text has a zero byte in some of its code
    units, all on one side (odd offsets for little-endian), and decodes to printable text;
    other binary data does neither.
    """
    head = data[:UTF16_SNIFF_BYTES]
    head = head[: len(head) // 2 * 2]
    if len(head) < 16:
        return None
    even_zeros = head[0::2].count(0)
    odd_zeros = head[1::2].count(0)
    units = len(head) // 2
    zeros = even_zeros + odd_zeros
    if zeros < UTF16_MIN_ZERO_SHARE * units:
        return None
    if odd_zeros >= UTF16_PARITY_SHARE * zeros:
        encoding = "utf-16-le"
    elif even_zeros >= UTF16_PARITY_SHARE * zeros:
        encoding = "utf-16-be"
    else:
        return None
    decoded = decode_leniently(head, encoding)
    if decoded is None or not decoded.acceptable(len(head)) or "\x00" in decoded.text:
        return None
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in decoded.text)
    return encoding if printable >= UTF16_PRINTABLE_SHARE * len(decoded.text) else None
