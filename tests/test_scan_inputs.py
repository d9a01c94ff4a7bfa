"""Bad and awkward image inputs: each gives a clear result for its own document.

Size limits are checked from the image header, before any pixel is decoded, so a
decompression bomb or a 20000×20000 image costs no memory.
"""
from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from gongkai.extractors.pipeline import extract_file
from gongkai.extractors.readers import read_document
from gongkai.extractors.readers.base import ReaderError
from samples import ROOT

SCANS = ROOT / "samples" / "scans"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares width×height but carries almost no data (a hostile header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + _chunk(b"IEND", b""))


def _error(path: Path) -> ReaderError:
    with pytest.raises(ReaderError) as info:
        read_document(path)
    return info.value


def test_giant_image_refused_from_its_header(tmp_path: Path) -> None:
    giant = tmp_path / "giant.png"
    _png_header_only(giant, 20000, 20000)
    error = _error(giant)
    assert error.kind == "too-large" and "20000×20000" in error.message


def test_decompression_bomb_refused_without_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12000, 9000), 1).save(bomb, optimize=True)  # 108 megapixels in a few kB
    assert bomb.stat().st_size < 100_000
    assert _error(bomb).kind == "too-large"


def test_corrupt_jpeg_is_a_clear_error(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 300, 3), np.uint8)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    data[len(data) // 3:] = b"\x00" * (len(data) - len(data) // 3)  # the scan stopped a third of the way
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(bytes(data[: len(data) // 2]))
    result = extract_file(broken)
    assert result.error is not None and result.error.kind in ("corrupt", "empty")


@pytest.mark.slow
def test_photo_that_is_no_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:600, 0:800]
    photo = np.stack([(x / 800 * 255), (y / 600 * 200), 128 + 60 * np.sin(x / 40.0)], axis=-1)
    photo += rng.normal(0, 8, photo.shape)
    path = tmp_path / "holiday.jpg"
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(path, "JPEG")
    result = extract_file(path)
    assert result.error is not None or all(r.kind == "not-a-report" for r in result.reports)


@pytest.mark.slow
def test_upside_down_screenshot_reads_right(tmp_path: Path) -> None:
    turned = tmp_path / "turned.png"
    Image.open(SCANS / "003_changle_wjj_2021_screenshot.png").rotate(180).save(turned)
    result = extract_file(turned)
    (report,) = [r for r in result.reports if r.kind == "tabular"]
    assert (report.year, report.template) == (2021, "gov-2021") and len(report.fields) > 150
    assert any("turned 180°" in n for p in read_document(turned).pages for n in p.notes)
    assert any("turned 180°" in n.note for n in result.page_notes)  # and in the result


def _two_page_scan_with_unreadable_second(path: Path) -> None:
    pdf = pdfium.PdfDocument(str(SCANS / "000_liaocheng_wjw_2021_scan200.pdf"))
    first = pdf[0].render(scale=1.0).to_pil().convert("L")
    second = Image.fromarray(np.random.default_rng(2).integers(150, 255, (800, 600), np.uint8))
    first.save(path, save_all=True, append_images=[second], resolution=72)
    data = bytearray(path.read_bytes())
    images = [
        m.end()
        for m in re.finditer(rb"(?<!end)stream\r?\n", data)
        if b"/Subtype /Image" in data[m.start() - 150 : m.start()]
    ]
    start = images[-1]  # the second page's image data: big enough to garble its middle only
    data[start + 64: start + 2064] = b"\xba\xad" * 1000
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_pdf_with_one_unreadable_page_keeps_the_other(tmp_path: Path) -> None:
    path = tmp_path / "half_broken.pdf"
    _two_page_scan_with_unreadable_second(path)
    doc = read_document(path)
    assert [p.number for p in doc.pages] == [1, 2]
    assert any(b.page == 1 for b in doc.blocks) and not any(b.page == 2 for b in doc.blocks)


# ---------------------------------------------------------------- bit depths and modes (issue 11 item 9)
def _page_grey() -> Image.Image:
    return Image.open(SCANS / "004_helan_wjj_2017_lineless.png").convert("L")


def _saved(img: Image.Image, path: Path, fmt: str) -> Path:
    img.save(path, format=fmt)
    return path


def _decoded(path: Path) -> np.ndarray:
    from gongkai.extractors.scan.raster import image_pages

    (page,) = list(image_pages(path))
    assert page.error is None and page.image is not None
    return page.image


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_greyscale_scan_reads_as_its_8_bit_self(tmp_path: Path, fmt: str) -> None:
    """Pillow's own convert clips 16-bit samples at 255: the page came out white (blank)."""
    grey = _page_grey()
    wide = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    assert wide.mode == "I;16"
    pixels = _decoded(_saved(wide, tmp_path / f"page16.{fmt.lower()}", fmt))
    assert np.array_equal(pixels[:, :, 0], np.asarray(grey))


def test_12_bit_samples_keep_their_contrast(tmp_path: Path) -> None:
    grey = np.asarray(_page_grey()).astype(np.int32)
    twelve = Image.fromarray(grey * 4095 // 255, mode="I")
    pixels = _decoded(_saved(twelve, tmp_path / "page12.tif", "TIFF"))[:, :, 0].astype(int)
    assert np.abs(pixels - grey).max() <= 1


@pytest.mark.parametrize("mode", ["LA", "RGBA", "P", "1", "CMYK"])
def test_other_modes_give_dark_text_on_white_paper(tmp_path: Path, mode: str) -> None:
    grey = _page_grey()
    if mode in ("LA", "RGBA"):  # paper transparent, text opaque black: alpha dropped, the page was black
        ink = Image.fromarray(255 - np.asarray(grey))
        img = Image.merge("LA", (Image.new("L", grey.size, 0), ink)).convert(mode)
    else:
        img = grey.convert(mode)
    pixels = _decoded(_saved(img, tmp_path / f"page.{'tif' if mode == 'CMYK' else 'png'}",
                             "TIFF" if mode == "CMYK" else "PNG"))[:, :, 0].astype(int)
    reference = np.asarray(grey).astype(int)
    paper, text = reference > 200, reference < 100
    assert pixels[paper].mean() > 200 and pixels[text].mean() < 110, mode


@pytest.mark.slow
def test_16_bit_scan_reads_every_field_its_8_bit_copy_reads(tmp_path: Path) -> None:
    grey = _page_grey()
    eight = _saved(grey, tmp_path / "page8.png", "PNG")
    sixteen = _saved(Image.fromarray(np.asarray(grey).astype(np.uint16) * 257), tmp_path / "page16.png", "PNG")
    filled = [sum(f.value is not None for f in extract_file(p).reports[0].fields) for p in (eight, sixteen)]
    assert filled[0] > 40 and filled[1] == filled[0]
