"""The CJK fonts the sample PDFs are drawn in, registered with reportlab for embedding.

Every sample PDF embeds the subset of the font it uses, so a PDF renders the same on every
machine whatever CJK fonts it has installed (a non-embedded font is drawn with the reading
machine's own fallback, and the tests that rasterise the samples then saw different pages on
different machines).

reportlab embeds TrueType outlines only. AR PL UMing is TrueType; Noto CJK is CFF, so for it
the characters the samples can use are cut out with fontTools and their cubic outlines turned
into quadratic ones (fontTools' otf2ttf recipe) before reportlab sees the font.

The fonts come from Debian packages (scripts/install_system_packages.sh --with-fonts); only
regenerating the samples needs them, never the tests.
"""
from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class FontSource:
    name: str  # the name registered with reportlab
    family: str  # the family inside the collection (its name table, nameID 1)
    candidates: tuple[str, ...]
    package: str  # the Debian package that installs it


PDF_FONTS: dict[str, FontSource] = {
    "uming": FontSource("UMing", "AR PL UMing CN", (
        os.environ.get("GONGKAI_UMING_TTC", ""),
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/arphic-uming/uming.ttc",
    ), "fonts-arphic-uming"),
    "noto-sans": FontSource("NotoSansSC", "Noto Sans CJK SC", (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ), "fonts-noto-cjk"),
    "noto-serif": FontSource("NotoSerifSC", "Noto Serif CJK SC", (
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ), "fonts-noto-cjk"),
}

_REGISTERED: dict[str, str] = {}


def pdf_font(kind: str) -> str:
    """Register the font `kind` (a key of PDF_FONTS) with reportlab once; its reportlab name."""
    if kind not in _REGISTERED:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        source = PDF_FONTS[kind]
        path = next((p for p in source.candidates if p and os.path.exists(p)), None)
        if path is None:
            sys.exit(f"{source.family} not found: bash scripts/install_system_packages.sh --with-fonts "
                     f"(Debian package {source.package})")
        pdfmetrics.registerFont(TTFont(source.name, _truetype_bytes(path, source.family)))
        _REGISTERED[kind] = source.name
    return _REGISTERED[kind]


def _truetype_bytes(path: str, family: str) -> io.BytesIO:
    from fontTools.ttLib import TTCollection

    font = next(f for f in TTCollection(path).fonts if f["name"].getDebugName(1) == family)
    if "glyf" not in font:
        _subset(font, _sample_characters())
        _cff_to_truetype(font)
    out = io.BytesIO()
    font.save(out)
    out.seek(0)
    return out


def _sample_characters() -> set[str]:
    """Every character the samples can draw: GB 2312, ASCII, full-width forms, CJK punctuation,
    and whatever else the specs and the generator's own text hold."""
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xFF01, 0xFF5F)}
    chars |= {chr(c) for c in range(0x3000, 0x3040)}
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for source in [*ROOT.glob("samples/specs/*.yaml"), ROOT / "scripts" / "render_samples.py"]:
        chars |= set(source.read_text(encoding="utf-8"))
    return {c for c in chars if c.isprintable()}


def _subset(font, chars: set[str]) -> None:
    from fontTools import subset

    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)


def _cff_to_truetype(font) -> None:
    """fontTools' Snippets/otf2ttf.py: cubic CFF outlines as quadratic glyf outlines."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        hmtx[name] = (hmtx[name][0], getattr(glyph, "xMin", 0))
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\000\001\000\000"
