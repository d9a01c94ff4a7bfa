"""Page-image normalisation: seal removal, even background, deskew, orientation (speed: bench/bench_normalise.py)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from gongkai.extractors.scan.normalise import (
    NormalisedPage,
    coarse_orientation,
    estimate_skew,
    even_background,
    normalise_page,
    remove_red_seal,
    rotate_bound,
)

RENDERED = Path(__file__).resolve().parents[1] / "samples" / "rendered"
TABLE_PAGE = ("000_liaocheng_wjw_2020", 1)  # a full-page ruled table
MIXED_PAGE = ("002_shangcheng_wjj_2020", 0)  # paragraphs, then tables
TEXT_PAGE = ("004_helan_wjj_2017", 0)  # paragraphs only, no table
SKEWS = (-4.5, -2, -0.7, 0, 0.4, 1.3, 3, 5)


@cache
def _render(name: str, index: int, dpi: int) -> np.ndarray:
    with pdfium.PdfDocument(RENDERED / f"{name}.pdf") as pdf:
        rgb = pdf[index].render(scale=dpi / 72).to_numpy()
    return cv2.cvtColor(rgb[:, :, :3], cv2.COLOR_RGB2BGR)


def page(which: tuple[str, int], dpi: int = 100) -> np.ndarray:
    return _render(*which, dpi).copy()


def gray(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def turned(image: np.ndarray, turn: int, skew: float = 0.0) -> np.ndarray:
    """An upright page tilted by `skew`, then turned `turn` degrees counter-clockwise
    (so `turn` clockwise degrees make it upright again)."""
    return rotate_bound(rotate_bound(image, skew), -turn)


def shade(image: np.ndarray, darkest: float = 0.4) -> np.ndarray:
    """A scanner shadow: brightness falls from 1 at the top-left to `darkest` at the bottom-right."""
    h, w = image.shape[:2]
    ramp = 1 - (1 - darkest) * (np.linspace(0, 1, w, dtype=np.float32)[None, :] * 0.6
                                + np.linspace(0, 1, h, dtype=np.float32)[:, None] * 0.4)
    if image.ndim == 3:
        ramp = cv2.merge([ramp] * image.shape[2])
    return cv2.multiply(image, ramp, dtype=cv2.CV_8U)


def scan_like(bgr: np.ndarray, seed: int = 0) -> np.ndarray:
    """Blur, sensor noise, a shadow and JPEG, as a cheap office scanner leaves them."""
    cv2.setRNGSeed(seed)
    noise = cv2.randn(np.empty(bgr.shape, np.int16), (0,) * 3, (8,) * 3)
    img = cv2.add(cv2.GaussianBlur(bgr, (3, 3), 0.8), noise, dtype=cv2.CV_8U)
    img = shade(img, 0.55)
    return cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 70])[1], cv2.IMREAD_COLOR)


def sealed_page() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Black digits in a black grid, a semi-transparent red ring and star stamped across them.

    Returns the page and the masks of digit, grid and seal-only pixels."""
    h, w = 600, 800
    digits, grid, seal = (np.zeros((h, w), np.uint8) for _ in range(3))
    for y in range(40, h, 60):
        cv2.line(grid, (20, y), (w - 20, y), 255, 2)
    for x in range(20, w, 130):
        cv2.line(grid, (x, 40), (x, 580), 255, 2)
    for row, y in enumerate(range(85, 580, 60)):
        for col, x in enumerate(range(40, w - 130, 130)):
            text = str(1000 + 37 * row + 211 * col)
            cv2.putText(digits, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 255, 2, cv2.LINE_AA)
    center, radius = (400, 300), 170
    cv2.circle(seal, center, radius, 255, 12, cv2.LINE_AA)
    star = [(center[0] + r * np.sin(a), center[1] - r * np.cos(a))
            for i, a in enumerate(np.linspace(0, 2 * np.pi, 10, endpoint=False)) for r in [(70, 28)[i % 2]]]
    cv2.fillPoly(seal, [np.int32(star)], 255, cv2.LINE_AA)
    cv2.putText(seal, "SEAL OFFICE", (265, 210), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 255, 4, cv2.LINE_AA)

    ink = np.maximum(digits, grid).astype(np.float32) / 255
    img = np.repeat((255 * (1 - ink))[:, :, None], 3, axis=2)
    red = np.array([40, 30, 215], np.float32)  # BGR seal ink
    a = 0.85 * seal.astype(np.float32)[:, :, None] / 255  # semi-transparent, subtractive (multiply)
    img = img * (1 - a + a * red / 255)
    img = cv2.imdecode(cv2.imencode(".jpg", img.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85])[1], 1)
    return img, digits > 128, grid > 128, (seal > 128) & (digits == 0) & (grid == 0)


# --- red seal --------------------------------------------------------------------------


def test_red_seal_is_removed_and_the_digits_under_it_stay():
    img, digits, grid, seal_only = sealed_page()
    assert (gray(img)[seal_only] < 200).mean() > 0.9  # the seal really is there before
    assert (gray(img)[digits] < 128).mean() > 0.95

    out, fraction = remove_red_seal(img)
    hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV)
    reddish = ((hsv[..., 0] <= 12) | (hsv[..., 0] >= 168)) & (hsv[..., 1] >= 60) & (hsv[..., 2] >= 120)
    assert reddish.sum() == 0
    g = gray(out)
    assert (g[seal_only] > 200).mean() > 0.97
    assert (g[digits] < 128).mean() >= 0.95
    assert (g[grid] < 128).mean() >= 0.95
    assert 0.5 * seal_only.mean() < fraction < 1.5 * seal_only.mean()


def test_seal_removed_from_both_outputs_of_normalise_page():
    img, digits, _, seal_only = sealed_page()
    result = normalise_page(img)
    assert isinstance(result, NormalisedPage)
    assert result.rotation == 0 and result.skew == 0.0
    assert result.image.shape == img.shape[:2] and result.color.shape == img.shape
    assert (result.image[seal_only] > 200).mean() > 0.97
    assert (result.image[digits] < 128).mean() >= 0.95
    assert (gray(result.color)[seal_only] > 200).mean() > 0.97
    assert any("red seal" in note for note in result.notes)


def test_seal_on_tinted_paper_becomes_paper_not_white():
    img, digits, _, seal_only = sealed_page()
    paper = np.array([228, 242, 250], np.float32)  # BGR of yellowish paper
    tinted = (img.astype(np.float32) * paper / 255).astype(np.uint8)
    out, _ = remove_red_seal(tinted)
    assert np.abs(out[seal_only].astype(np.float32) - paper).mean() < 12
    assert (gray(out)[digits] < 128).mean() >= 0.95


def test_tinted_noisy_paper_without_a_seal_is_left_alone():
    paper = scan_like(page(TABLE_PAGE))
    tinted = cv2.multiply(paper, np.full(paper.shape, (0.91, 0.96, 1.0)), dtype=cv2.CV_8U)
    out, fraction = remove_red_seal(tinted)
    assert fraction == 0.0 and np.array_equal(out, tinted)


def test_grey_input_has_no_seal_to_remove():
    g = gray(page(TABLE_PAGE))
    out, fraction = remove_red_seal(g)
    assert fraction == 0.0 and np.array_equal(out, g)
    result = normalise_page(g)
    assert result.seal_fraction == 0.0 and result.color.shape == g.shape + (3,)


def test_black_and_white_page_loses_nothing_to_seal_removal():
    bgr = scan_like(page(TABLE_PAGE))
    out, fraction = remove_red_seal(bgr)
    assert fraction < 1e-4
    assert np.count_nonzero(out != bgr) < 1e-4 * bgr.size


# --- background ------------------------------------------------------------------------


def test_even_background_keeps_shadowed_paper_white_and_text_dark():
    clean = gray(page(MIXED_PAGE))
    paper, ink = clean > 245, clean < 100
    shaded = shade(clean, darkest=0.35)

    def binarise(g: np.ndarray) -> np.ndarray:
        return cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1] == 0  # True = black

    assert binarise(shaded)[paper].mean() > 0.05  # without evening, the shadow goes black
    evened = even_background(shaded)
    assert evened.shape == shaded.shape and evened.dtype == np.uint8
    assert binarise(evened)[paper].mean() < 0.005
    assert binarise(evened)[ink].mean() > 0.95
    assert np.median(evened[paper]) >= 250


def test_even_background_leaves_a_clean_page_alone():
    clean = gray(page(TABLE_PAGE))
    evened = even_background(clean)
    assert np.abs(evened.astype(int) - clean).mean() < 1.0


# --- skew ------------------------------------------------------------------------------


@pytest.mark.parametrize("angle", SKEWS)
def test_estimate_skew_on_a_table_page(angle):
    assert estimate_skew(rotate_bound(gray(page(TABLE_PAGE)), angle)) == pytest.approx(angle, abs=0.15)


@pytest.mark.parametrize("angle", SKEWS)
def test_estimate_skew_on_a_text_only_page(angle):
    assert estimate_skew(rotate_bound(gray(page(TEXT_PAGE)), angle)) == pytest.approx(angle, abs=0.15)


@pytest.mark.parametrize("angle", (-3.2, 0.9, 4.4))
def test_estimate_skew_on_a_scan_like_page(angle):
    scan = scan_like(rotate_bound(page(MIXED_PAGE, 150), angle), seed=int(abs(angle) * 10))
    assert estimate_skew(gray(scan)) == pytest.approx(angle, abs=0.15)


def test_estimate_skew_follows_the_page_not_the_scanner_border():
    scan = rotate_bound(gray(page(TABLE_PAGE)), 2.2)
    scan[:, :40] = 20  # the dark strip a scanner lid leaves, square to the image, not the page
    scan[:30, :] = 20
    assert estimate_skew(scan) == pytest.approx(2.2, abs=0.15)


def test_estimators_take_colour_too():
    bgr = turned(page(TABLE_PAGE), 90, skew=1.3)
    assert estimate_skew(bgr) == pytest.approx(1.3, abs=0.15)
    assert coarse_orientation(bgr) == 90


def test_estimate_skew_stays_within_bounds_on_blank_and_tiny_images():
    assert estimate_skew(np.full((1200, 900), 250, np.uint8)) == 0.0
    assert estimate_skew(np.full((5, 7), 255, np.uint8)) == 0.0
    assert abs(estimate_skew(np.random.default_rng(0).integers(0, 256, (400, 300), dtype=np.uint8))) <= 5.0


# --- rotation --------------------------------------------------------------------------


def test_rotate_bound_turns_clockwise_and_fills_white():
    img = np.full((40, 60, 3), 255, np.uint8)
    img[2:6, 2:6] = 0  # a black square at the top left
    q = rotate_bound(img, 90)
    assert np.array_equal(q, cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE))
    assert q[2:6, -6:-2].max() == 0  # clockwise: the top left goes to the top right
    assert np.array_equal(rotate_bound(img, -90), rotate_bound(img, 270))
    tilted = rotate_bound(img, 10)
    assert tilted.shape[0] > 40 and tilted.shape[1] > 60
    assert tuple(tilted[0, 0]) == (255, 255, 255) and tuple(tilted[-1, -1]) == (255, 255, 255)
    line = np.full((100, 200), 255, np.uint8)
    line[50, 20:180] = 0
    ys, xs = np.nonzero(rotate_bound(line, 5) < 128)
    assert ys[np.argmax(xs)] > ys[np.argmin(xs)]  # clockwise: the right end goes down


# --- orientation -----------------------------------------------------------------------


@pytest.mark.parametrize("which", (TABLE_PAGE, TEXT_PAGE, ("000_liaocheng_wjw_2019", 1)))
@pytest.mark.parametrize("turn", (0, 90, 180, 270))
def test_coarse_orientation_from_structure_alone(which, turn):
    rotation = coarse_orientation(gray(turned(page(which), turn, skew=2.7)))
    assert rotation % 180 == turn % 180  # quarter turns are told from structure
    assert rotation in (0, 90)  # a half turn cannot be told from structure


def test_screenshot_is_left_as_it_is():
    """A tall screenshot with 1-px rules: nothing to turn, level or whiten."""
    parts = [page(p, 120)[:, :960] for p in (TABLE_PAGE, ("000_liaocheng_wjw_2020", 0), ("003_changle_wjj_2021", 1))]
    shot = np.vstack(parts)
    result = normalise_page(shot)
    assert result.rotation == 0 and result.skew == 0.0 and result.seal_fraction == 0.0
    assert result.image.shape == shot.shape[:2]
    assert np.array_equal(result.color, shot)
    assert np.abs(result.image.astype(int) - gray(shot)).mean() < 1.0


def test_normalise_page_undoes_turn_tilt_and_shadow():
    upright = page(MIXED_PAGE, 150)
    result = normalise_page(scan_like(turned(upright, 90, skew=-2.5)))
    assert result.rotation == 90
    assert result.skew == pytest.approx(-2.5, abs=0.15)
    assert abs(estimate_skew(result.image)) < 0.1
    # the output lines up with the upright page once the grown margins are cut off
    h, w = upright.shape[:2]
    y0, x0 = (result.image.shape[0] - h) // 2, (result.image.shape[1] - w) // 2
    core = result.image[y0 : y0 + h, x0 : x0 + w]
    small = [cv2.resize(g, (w // 4, h // 4), interpolation=cv2.INTER_AREA).astype(float) for g in (core, gray(upright))]
    assert np.corrcoef(small[0].ravel(), small[1].ravel())[0, 1] > 0.8
    assert result.color.shape == result.image.shape + (3,)
    assert "rotated 90°" in result.notes and any("deskewed" in n for n in result.notes)
    assert any("uneven background" in n for n in result.notes)


def test_blank_noisy_and_tiny_pages_pass_through():
    noisy = cv2.add(np.full((1170, 827), 235, np.uint8), cv2.randn(np.empty((1170, 827), np.int16), 0, 10),
                    dtype=cv2.CV_8U)
    for img in (np.full((2339, 1654, 3), 245, np.uint8), noisy, np.full((9, 5), 0, np.uint8)):
        result = normalise_page(img)
        assert result.rotation == 0 and result.skew == 0.0
        assert result.image.shape == img.shape[:2] and result.color.shape == img.shape[:2] + (3,)


def test_alpha_channel_is_dropped():
    bgra = cv2.cvtColor(page(TABLE_PAGE), cv2.COLOR_BGR2BGRA)
    result = normalise_page(bgra)
    assert result.color.shape == bgra.shape[:2] + (3,) and result.rotation == 0


def test_an_a4_page_at_200_dpi_is_deskewed_at_its_size():
    """The page bench/bench_normalise.py times (its speed is measured there, not here)."""
    bgr = cv2.resize(scan_like(rotate_bound(page(TABLE_PAGE, 200), 1.7)), (1654, 2339))
    result = normalise_page(bgr)
    assert result.rotation == 0 and result.skew == pytest.approx(1.7, abs=0.15)
    assert abs(estimate_skew(result.image)) < 0.1
    assert result.color.shape == result.image.shape + (3,)


# --- half turns: decided on the page's text lines by OCR (page.upside_down) --------------


@pytest.fixture(scope="module")
def backend():
    from gongkai.extractors.ocr import default_backend

    return default_backend()


def _page_text(result) -> str:
    return "".join(item.text for item in result.items if hasattr(item, "text")) + "".join(
        c.text for item in result.items if hasattr(item, "cells") for c in item.cells)


@pytest.mark.slow
@pytest.mark.parametrize("which", (TABLE_PAGE, TEXT_PAGE))
@pytest.mark.parametrize("turn", (0, 90, 180, 270))
def test_read_page_turns_every_quarter_upright(backend, which, turn):
    from gongkai.extractors.scan.page import read_page

    result = read_page(1, turned(page(which, 150), turn, skew=-1.8), backend)
    assert ("turned 180° (the text read upside down)" in result.notes) == (turn >= 180)
    assert "政府信息公开" in _page_text(result)  # read upright: the words come out


@pytest.mark.slow
def test_read_page_turns_an_upside_down_scan(backend):
    from gongkai.extractors.scan.page import read_page

    result = read_page(1, scan_like(turned(page(MIXED_PAGE, 150), 180, skew=1.1)), backend)
    assert "turned 180° (the text read upside down)" in result.notes
    assert any(note.startswith("deskewed by") for note in result.notes)
    assert "政府信息公开" in _page_text(result)
