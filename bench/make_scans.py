"""Makes scanned and screenshot versions of the born-digital report PDFs, with their ground truth.

Every PDF that has an `<name>.expected.json` beside it in samples/rendered/ and
tests/fixtures/unseen/ is rasterised with pypdfium2 and degraded the way a scanner or a
screenshot tool would; the expected JSON is copied beside each output.  The random choices
come from a seed made of (document, kind), so a run writes the same pixels every time.

Kinds (one file per report, `<out>/<kind>/<name>.<ext>`):
  scan200         200 dpi grey, skew ±2°, paper tint, uneven light, noise, JPEG q70–85; image-only PDF
  scan150         150 dpi colour, as scan200 plus blur and a red official seal over the values; TIFF
  split           as scan200, every page cut in two at 45–65 % of its height (tables split mid-table)
  screenshot      110–130 dpi colour, pages cropped and stacked into one tall PNG (a web screenshot)
  screenshot_jpg  the same at 96 dpi, JPEG q90
  lineless        as screenshot, with every ruling line erased (a web table styled without borders)
One document in four has one page turned 180° in each scan kind, and one other document a page
turned 90°.  `<out>/manifest.json` records every output's parameters and page counts.

Usage:
  python bench/make_scans.py [--out DIR] [--only PREFIX ...] [--kinds KIND ...]
  python bench/make_scans.py --fixture [NAME]   # samples/scans/<name>_scan200.pdf
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
HARD = ROOT / "tests" / "fixtures" / "hard"  # scripts/render_hard_pdfs.py: reportlab h*, fpdf2 f*
SOURCES = [ROOT / "samples" / "rendered", ROOT / "tests" / "fixtures" / "unseen", HARD]
DEFAULT_OUT = ROOT / "bench" / "out" / "scans"
FIXTURE_DIR = ROOT / "samples" / "scans"
FIXTURE_TEMPLATE = "gov-2021"
KINDS = ("scan200", "scan150", "split", "screenshot", "screenshot_jpg", "lineless")
SCAN_KINDS = ("scan200", "scan150", "split")

# Paper and scanner
PAPER_GREY = (232.0, 246.0)  # level of blank paper after scanning
PAPER_TINT = ((244.0, 252.0), (240.0, 248.0), (228.0, 240.0))  # R, G, B of yellowish paper
INK_LEVEL = (22.0, 45.0)  # level of black toner after scanning
LIGHT_GRADIENT = (0.04, 0.10)  # linear fall-off of the lamp across the page
LIGHT_VIGNETTE = (0.02, 0.06)  # extra darkening towards the corners
NOISE_SIGMA = (2.5, 5.0)  # grey levels
JPEG_QUALITY = (70, 85)
SCANNER_LID = 255  # what shows around a skewed page
TURNED_SHARE = 4  # one document in this many gets a page turned 180°

# Seal (公章)
SEAL_DIAMETER_CM = 4.0
SEAL_RED = (214, 38, 44)
SEAL_OPACITY = (0.75, 0.9)
SEAL_TILT = 20.0  # degrees either way
SEAL_FONTS = [
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]

# Split pages and screenshots
SPLIT_AT = (0.45, 0.65)  # share of the page height where the page break is moved to
RULE_SHARE = 0.30  # a row darker than this share of the width is a table rule
SCREENSHOT_DPI = (110, 130)
SCREENSHOT_JPG_DPI = 96
SCREENSHOT_JPG_QUALITY = 90
SCREENSHOT_PAD = 10  # px kept around the content of each page
RULE_MIN_PX = (48, 24)  # horizontal, vertical: ink runs this long are rules (a character is ~18 px at 120 dpi)
PAGE_NUMBER = re.compile(r"^[\s\-—–·第页共/]*\d{1,3}[\s\-—–·第页共/\d]*$")
FOOTER_SHARE = 0.12  # page numbers sit in this bottom share of the page

FIXTURE_MAX_SKEW = 1.0
FIXTURE_MAX_BYTES = 1_500_000
FIXTURE_JPEG_QUALITY = (72, 76)  # keeps the two pages near 1 MB


@dataclass(frozen=True)
class ScanStyle:
    """How one scan kind degrades a page."""

    dpi: int
    colour: bool
    max_skew: float = 2.0
    blur: tuple[float, float] | None = None
    seal: bool = False
    split: bool = False
    turns: bool = True
    ext: str = "pdf"
    jpeg: tuple[int, int] = JPEG_QUALITY


STYLES = {
    "scan200": ScanStyle(dpi=200, colour=False),
    "scan150": ScanStyle(dpi=150, colour=True, blur=(0.7, 1.0), seal=True, ext="tif"),
    "split": ScanStyle(dpi=200, colour=False, split=True),
}
Point = tuple[float, float]  # x, y in PDF points from the top left

FIXTURE_STYLE = ScanStyle(dpi=200, colour=False, max_skew=FIXTURE_MAX_SKEW, turns=False, jpeg=FIXTURE_JPEG_QUALITY)


# ---------------------------------------------------------------- inputs and seeds


def sources() -> list[Path]:
    """Every born-digital PDF that has its expected values beside it."""
    found = [p for folder in SOURCES for p in folder.glob("*.pdf") if expected_path(p).exists()]
    return sorted(found, key=lambda p: p.name)


def expected_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.stem + ".expected.json")


def seed(*parts: str) -> int:
    """A stable seed (Python's hash() changes between runs)."""
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:8], "little")


def turn_plan(names: list[str], kind: str) -> dict[str, int]:
    """Which documents get a page turned, and by how many degrees (from the full input list)."""
    order = sorted(names, key=lambda n: seed("turn", kind, n))
    count = max(1, round(len(order) / TURNED_SHARE))
    plan = {name: 180 for name in order[:count]}
    if len(order) > count:
        plan[order[count]] = 90 if seed("side", kind) % 2 else -90
    return plan


# ---------------------------------------------------------------- rendering


def render(page: pdfium.PdfPage, dpi: float, colour: bool) -> np.ndarray:
    """The page as uint8 pixels: H×W grey or H×W×3 RGB."""
    bitmap = page.render(scale=dpi / 72, grayscale=not colour, rev_byteorder=colour)
    return np.array(bitmap.to_numpy()[..., :3] if colour else bitmap.to_numpy(), dtype=np.uint8)


def digit_boxes(page: pdfium.PdfPage) -> list[Point]:
    """Centres (x, y from the top, in points) of the digits in the page's text layer."""
    text = page.get_textpage()
    height = page.get_height()
    centres = []
    for i in range(text.count_chars()):
        if text.get_text_range(i, 1).isdigit():
            left, bottom, right, top = text.get_charbox(i)
            centres.append(((left + right) / 2, height - (bottom + top) / 2))
    return centres


def footer_top(page: pdfium.PdfPage) -> float | None:
    """Top of a page number on the page's last text line (points from the top), if it has one."""
    text = page.get_textpage()
    chars = [(text.get_text_range(i, 1), text.get_charbox(i)) for i in range(text.count_chars())]
    chars = [(c, box) for c, box in chars if c.strip()]
    if not chars:
        return None
    lowest = min(box[1] for _, box in chars)
    line = [(c, box) for c, box in chars if box[1] < lowest + 3]
    words = "".join(c for c, _ in sorted(line, key=lambda item: item[1][0]))
    if lowest > FOOTER_SHARE * page.get_height() or not PAGE_NUMBER.match(words):
        return None
    return page.get_height() - max(box[3] for _, box in line)


# ---------------------------------------------------------------- paper and scanner


def age_paper(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paper tint and toner level: white becomes the paper colour, black the ink level."""
    if img.ndim == 2:
        paper = np.float32(rng.uniform(*PAPER_GREY))
    else:
        paper = np.array([rng.uniform(*band) for band in PAPER_TINT], dtype=np.float32)
    ink = np.float32(rng.uniform(*INK_LEVEL))
    return ink + (paper - ink) * (img.astype(np.float32) / 255)


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    """Skews the page on the glass; the scanner lid shows where the page does not reach."""
    h, w = img.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    fill = (SCANNER_LID,) * (1 if img.ndim == 2 else 3)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def illuminate(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven lamp light: a linear fall-off in a random direction and darker corners."""
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = x / w - 0.5, y / h - 0.5
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (x * math.cos(angle) + y * math.sin(angle)) + 0.5
    light = 1 - rng.uniform(*LIGHT_GRADIENT) * ramp - rng.uniform(*LIGHT_VIGNETTE) * (x * x + y * y) * 2
    return img * (light if img.ndim == 2 else light[..., None])


def add_noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = rng.uniform(*NOISE_SIGMA)
    return img + rng.normal(0, sigma, img.shape).astype(np.float32)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma)


def to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- seal


def seal_font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in SEAL_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return None


def star(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """A five-pointed star, point up."""
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.382
        a = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def arc_text(canvas: Image.Image, text: str, radius: float, size: int) -> None:
    """Writes `text` clockwise along the top arc, each character's foot towards the centre."""
    font = seal_font(size)
    centre = canvas.width / 2
    span = min(250.0, 22.0 * len(text))  # degrees the text covers
    for i, char in enumerate(text):
        angle = -span / 2 + span * (i + 0.5) / len(text)  # 0 = straight up, clockwise
        glyph = Image.new("L", (size * 2, size * 2), 0)
        draw = ImageDraw.Draw(glyph)
        if font is not None:
            draw.text((size, size), char, fill=255, font=font, anchor="mm")
        else:  # no CJK font: a few strokes where the character would be
            draw.rectangle((size * 0.6, size * 0.6, size * 1.4, size * 1.4), outline=255, width=max(1, size // 8))
            draw.line((size * 0.6, size, size * 1.4, size), fill=255, width=max(1, size // 8))
        glyph = glyph.filter(ImageFilter.MaxFilter(3)).rotate(-angle, resample=Image.BICUBIC)  # seal strokes are bold
        rad = math.radians(angle)
        x, y = centre + radius * math.sin(rad), centre - radius * math.cos(rad)
        canvas.paste(255, (round(x - size), round(y - size)), glyph)


def seal_mask(agency: str, diameter: int, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage 0..1 of a round official seal: ring, star and the agency's name on the arc."""
    big = diameter * 2  # drawn at twice the size, then scaled down for smooth edges
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    ring = big * 0.04
    draw.ellipse((ring / 2, ring / 2, big - ring / 2, big - ring / 2), outline=255, width=round(ring))
    draw.polygon(star(big / 2, big / 2, big * 0.19), fill=255)
    size = round(big * 0.15)
    arc_text(canvas, agency or "政务公开专用章", big / 2 - ring - size * 0.62, size)
    canvas = canvas.rotate(rng.uniform(-SEAL_TILT, SEAL_TILT), resample=Image.BICUBIC)
    mask = np.asarray(canvas.resize((diameter, diameter), Image.LANCZOS), dtype=np.float32) / 255
    return mask * stamp_pressure(diameter, rng)


def stamp_pressure(size: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven ink of a rubber stamp: smooth blotches and small dry speckles."""
    coarse = rng.uniform(0.55, 1.0, (6, 6)).astype(np.float32)
    smooth = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    speckles = (rng.random((size, size)) > 0.06).astype(np.float32)
    return np.clip(smooth, 0.4, 1.0) * cv2.GaussianBlur(speckles, (0, 0), 0.6)


def stamp(img: np.ndarray, mask: np.ndarray, centre: tuple[int, int], opacity: float) -> np.ndarray:
    """Multiplies the red seal onto the page at `centre` (x, y in pixels)."""
    out = img.astype(np.float32)
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
    size = mask.shape[0]
    x0, y0 = centre[0] - size // 2, centre[1] - size // 2
    h, w = out.shape[:2]
    sx, sy = max(0, -x0), max(0, -y0)
    ex, ey = min(size, w - x0), min(size, h - y0)
    cover = mask[sy:ey, sx:ex, None] * opacity
    red = np.array(SEAL_RED, dtype=np.float32) / 255
    out[y0 + sy : y0 + ey, x0 + sx : x0 + ex] *= 1 - cover * (1 - red)
    return out


def seal_spot(pages: list[list[Point]], width: float, rng: np.random.Generator) -> tuple[int, Point]:
    """The page with the most digits, and a digit of its value columns (right half) to centre the seal on."""
    index = max(range(len(pages)), key=lambda i: len(pages[i]))
    right = [c for c in pages[index] if c[0] > width * 0.45] or pages[index] or [(width * 0.7, width * 0.7)]
    return index, right[int(rng.integers(len(right)))]


# ---------------------------------------------------------------- split pages


def rule_rows(grey: np.ndarray) -> np.ndarray:
    """Rows dark across more than RULE_SHARE of the width (table rules)."""
    return np.flatnonzero((grey < 128).sum(axis=1) > RULE_SHARE * grey.shape[1])


def cut_rows(grey: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Where to break the page: the table rule nearest a random height in SPLIT_AT, else the
    emptiest row near it.  Returns the first row of the next page and the end of this one
    (a rule is printed on both pages, as word processors do)."""
    h = grey.shape[0]
    target = rng.uniform(*SPLIT_AT) * h
    low, high = int(SPLIT_AT[0] * h), int(SPLIT_AT[1] * h)
    rules = [r for r in rule_rows(grey) if low <= r <= high]
    if rules:
        row = min(rules, key=lambda r: abs(r - target))
        start = end = row
        while start - 1 in rules:
            start -= 1
        while end + 1 in rules:
            end += 1
        return start, end + 1
    ink = cv2.blur((grey[low:high] < 160).sum(axis=1).astype(np.float32)[:, None], (1, 9)).ravel()
    row = low + int(np.argmin(ink + np.abs(np.arange(low, high) - target) * 0.02))
    return row, row


def split_page(grey: np.ndarray, img: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Two full-size pages: the top of the page, then the rest below a fresh top margin."""
    h = img.shape[0]
    start, end = cut_rows(grey, rng)
    inked = np.flatnonzero((grey < 160).any(axis=1))
    margin = int(inked[0]) if inked.size else h // 10
    first = np.full_like(img, 255)
    first[:end] = img[:end]
    second = np.full_like(img, 255)
    rest = img[start:][: h - margin]
    second[margin : margin + rest.shape[0]] = rest
    return [first, second]


# ---------------------------------------------------------------- scan kinds


def scan_page(img: np.ndarray, style: ScanStyle, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Paper, skew, light, optics and sensor noise; returns float pixels and the skew in degrees."""
    out = age_paper(img, rng)
    angle = float(rng.uniform(-style.max_skew, style.max_skew))
    out = illuminate(rotate(out, angle), rng)
    if style.blur:
        out = blur(out, float(rng.uniform(*style.blur)))
    return add_noise(out, rng), angle


def turn(img: np.ndarray, degrees: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(img, k=-degrees // 90))


def scan_document(pdf: Path, kind: str, style: ScanStyle, turned: int, agency: str) -> tuple[list[Image.Image], dict]:
    """The degraded pages of one document and what was done to them."""
    rng = np.random.default_rng(seed(pdf.stem, kind))
    doc = pdfium.PdfDocument(pdf)
    pages = [doc[i] for i in range(len(doc))]
    seal = seal_spot([digit_boxes(p) for p in pages], pages[0].get_width(), rng) if style.seal else None
    images = [render(p, style.dpi, style.colour) for p in pages]
    info: dict = {"dpi": style.dpi, "source_pages": len(pages)}
    if seal is not None:
        images[seal[0]] = place_seal(images[seal[0]], seal[1], style.dpi, agency, rng)
        info["seal"] = {"page": seal[0] + 1, "at_pt": [round(v) for v in seal[1]]}
    if style.split:
        images = [part for img in images for part in split_page(img if img.ndim == 2 else img.mean(axis=2), img, rng)]
    scanned, skews = [], []
    for img in images:
        page, angle = scan_page(img, style, rng)
        scanned.append(to_uint8(page))
        skews.append(round(angle, 2))
    info["skew_deg"] = skews
    if turned:
        index = int(rng.integers(len(scanned)))
        scanned[index] = turn(scanned[index], turned)
        info["turned"] = {"page": index + 1, "degrees": turned}
    info["jpeg_quality"] = int(rng.integers(style.jpeg[0], style.jpeg[1] + 1))
    info["pages"] = len(scanned)
    doc.close()
    return [Image.fromarray(p) for p in scanned], info


def place_seal(img: np.ndarray, at: Point, dpi: int, agency: str, rng: np.random.Generator) -> np.ndarray:
    diameter = round(SEAL_DIAMETER_CM / 2.54 * dpi)
    mask = seal_mask(agency, diameter, rng)
    centre = (round(at[0] * dpi / 72), round(at[1] * dpi / 72))
    return to_uint8(stamp(img, mask, centre, float(rng.uniform(*SEAL_OPACITY))))


def save_pdf(images: list[Image.Image], path: Path, dpi: int, quality: int) -> None:
    """An image-only PDF: one JPEG per page (the scanner's compression), no text layer, no dates."""
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=quality,
                   title=path.stem, creationDate=None, modDate=None)


def save_tiff(images: list[Image.Image], path: Path, dpi: int, quality: int) -> None:
    """A multi-page TIFF with JPEG compression, as scanners write them."""
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:], dpi=(dpi, dpi),
                   compression="jpeg", quality=quality)


def write_scan(pdf: Path, kind: str, out: Path, turned: int) -> dict:
    style = STYLES[kind]
    expected = json.loads(expected_path(pdf).read_text(encoding="utf-8"))
    images, info = scan_document(pdf, kind, style, turned, expected.get("agency") or "")
    target = out / kind / f"{pdf.stem}.{style.ext}"
    (save_pdf if style.ext == "pdf" else save_tiff)(images, target, style.dpi, info["jpeg_quality"])
    return info | {"file": target}


# ---------------------------------------------------------------- screenshots


def content_box(grey: np.ndarray, footer: int | None) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink on a page, above its page number."""
    ink = grey[:footer] < 200 if footer else grey < 200
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def screenshot(pdf: Path, dpi: float) -> tuple[Image.Image, dict]:
    """The whole report as one tall image, margins and page breaks cropped away."""
    doc = pdfium.PdfDocument(pdf)
    crops, boxes = [], []
    for i in range(len(doc)):
        img = render(doc[i], dpi, colour=True)
        top = footer_top(doc[i])
        box = content_box(img.min(axis=2), None if top is None else int(top * dpi / 72) - 2)
        if box:
            crops.append(img)
            boxes.append(box)
    left, right = min(b[2] for b in boxes) - SCREENSHOT_PAD, max(b[3] for b in boxes) + SCREENSHOT_PAD
    pad = SCREENSHOT_PAD
    strips = [img[max(0, b[0] - pad) : b[1] + pad, max(0, left) : right] for img, b in zip(crops, boxes)]
    info = {"dpi": round(dpi, 1), "source_pages": len(doc), "pages": 1}
    doc.close()
    return Image.fromarray(np.vstack(strips)), info


def erase_rules(image: Image.Image) -> Image.Image:
    """The screenshot with its table rules painted over in paper white: long straight ink runs."""
    img = np.asarray(image).copy()
    ink = (img.min(axis=2) < 200).astype(np.uint8)
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (RULE_MIN_PX[0], 1)))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, RULE_MIN_PX[1])))
    rules = cv2.dilate(across | down, np.ones((3, 3), np.uint8)) > 0  # the rules' anti-aliased edges too
    img[rules] = 255
    return Image.fromarray(img)


def write_screenshot(pdf: Path, kind: str, out: Path) -> dict:
    rng = np.random.default_rng(seed(pdf.stem, kind))
    dpi = SCREENSHOT_JPG_DPI if kind == "screenshot_jpg" else float(rng.uniform(*SCREENSHOT_DPI))
    image, info = screenshot(pdf, dpi)
    if kind == "lineless":
        image = erase_rules(image)
    if kind == "screenshot_jpg":
        target = out / kind / f"{pdf.stem}.jpg"
        image.save(target, "JPEG", quality=SCREENSHOT_JPG_QUALITY, dpi=(dpi, dpi))
        info["jpeg_quality"] = SCREENSHOT_JPG_QUALITY
    else:
        target = out / kind / f"{pdf.stem}.png"
        image.save(target, "PNG", optimize=True, dpi=(round(dpi), round(dpi)))
    info["size_px"] = list(image.size)
    return info | {"file": target}


# ---------------------------------------------------------------- main


def write(pdf: Path, kind: str, out: Path, plan: dict[str, int]) -> dict:
    """Writes one output with its expected values; returns its manifest entry."""
    (out / kind).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if kind in SCAN_KINDS:
        info = write_scan(pdf, kind, out, plan.get(pdf.stem, 0))
    else:
        info = write_screenshot(pdf, kind, out)
    target: Path = info.pop("file")
    shutil.copyfile(expected_path(pdf), out / kind / f"{pdf.stem}.expected.json")
    return {"kind": kind, "source": str(pdf.relative_to(ROOT)), "bytes": target.stat().st_size,
            "seconds": round(time.perf_counter() - start, 2), **info, "path": str(target.relative_to(out))}


def update_manifest(out: Path, entries: list[dict]) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    manifest.update({e["path"]: e for e in entries})
    path.write_text(json.dumps(dict(sorted(manifest.items())), ensure_ascii=False, indent=1), encoding="utf-8")


def generate(out: Path, kinds: list[str], only: list[str]) -> None:
    docs = sources()
    chosen = [p for p in docs if not only or any(p.stem.startswith(o) for o in only)]
    entries = []
    print(f"{'file':48} {'pages':>5} {'KiB':>7} {'s':>6}  notes")
    for kind in kinds:
        # the hard set has a plan of its own, so adding it left the other documents' turned pages as they were
        plan = {**turn_plan([p.stem for p in docs if p.parent != HARD], kind),
                **turn_plan([p.stem for p in docs if p.parent == HARD], kind)} if kind in SCAN_KINDS else {}
        for pdf in chosen:
            entry = write(pdf, kind, out, plan)
            entries.append(entry)
            notes = ", ".join(f"{k}={entry[k]}" for k in ("dpi", "jpeg_quality", "turned", "seal") if k in entry)
            size = entry["bytes"] / 1024
            print(f"{entry['path']:48} {entry['pages']:5} {size:7.0f} {entry['seconds']:6.2f}  {notes}")
    update_manifest(out, entries)
    total = sum(e["bytes"] for e in entries) / 2**20
    print(f"\n{len(entries)} files, {total:.1f} MiB, {sum(e['seconds'] for e in entries):.1f} s -> {out}")


# ---------------------------------------------------------------- test fixture


def fixture_source() -> Path:
    """The gov-2021 seed report whose one page holds the largest share of its table's digits."""
    def share(pdf: Path) -> float:
        doc = pdfium.PdfDocument(pdf)
        counts = [len(digit_boxes(doc[i])) for i in range(len(doc))]
        doc.close()
        return max(counts) / max(1, sum(counts))

    seeds = [p for p in sources() if p.parent == SOURCES[0]
             and json.loads(expected_path(p).read_text(encoding="utf-8"))["template"] == FIXTURE_TEMPLATE]
    return max(seeds, key=share)  # the first of equals


def write_fixture(name: str | None) -> None:
    """tests/fixtures/scans/<name>_scan200.pdf: every page of one report, 200 dpi, skew ≤ 1°."""
    pdf = next(p for p in sources() if p.stem == name) if name else fixture_source()
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    images, info = scan_document(pdf, "fixture", FIXTURE_STYLE, 0, "")
    target = FIXTURE_DIR / f"{pdf.stem}_scan200.pdf"
    save_pdf(images, target, FIXTURE_STYLE.dpi, info["jpeg_quality"])
    shutil.copyfile(expected_path(pdf), FIXTURE_DIR / f"{pdf.stem}_scan200.expected.json")
    size = target.stat().st_size
    print(f"{target.relative_to(ROOT)}: {info['pages']} pages, {size / 1024:.0f} KiB, skew {info['skew_deg']}, "
          f"JPEG q{info['jpeg_quality']}")
    if size > FIXTURE_MAX_BYTES:
        print(f"warning: larger than {FIXTURE_MAX_BYTES / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", default=[], metavar="PREFIX", help="documents whose name starts so")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    parser.add_argument("--fixture", nargs="?", const="", default=None, metavar="NAME",
                        help="write the scanned test fixture (of NAME, or the best gov-2021 seed) and stop")
    args = parser.parse_args()
    if args.fixture is not None:
        write_fixture(args.fixture or None)
    else:
        generate(args.out, args.kinds, args.only)


if __name__ == "__main__":
    main()
