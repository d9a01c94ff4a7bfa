"""The optional paddleocr backend: model folders built from rapidocr's wheel, and the same
readings as the default rapidocr backend on the same crops of a rendered report table.

The comparison tests need `pip install 'gongkai[paddle]'` and are skipped without it;
the set-up error tests run everywhere.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from gongkai.extractors.ocr import backend_from_settings
from gongkai.extractors.ocr.base import crop, read_lines
from gongkai.extractors.ocr.paddle import PaddleOcrBackend

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rendered" / "001_lushan_wjw_2023.pdf"
# 表二 (主动公开) on page 1 at 200 dpi: headers, 22881, 150 and a column of zeros.
TABLE = (slice(800, 1450), slice(170, 1490))
DIGITS = re.compile(r"[0-9.,%+-]+")


def _script():
    spec = importlib.util.spec_from_file_location("make_paddle_model_dirs",
                                                  ROOT / "scripts" / "make_paddle_model_dirs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory) -> tuple[Path, Path]:
    return _script().build_model_dirs(tmp_path_factory.mktemp("paddle-models"))


@pytest.fixture(scope="module")
def backends(model_dirs):
    pytest.importorskip("paddleocr")
    from gongkai.extractors.ocr.rapid import RapidOcrBackend

    det_dir, rec_dir = model_dirs
    return PaddleOcrBackend(str(det_dir), str(rec_dir)), RapidOcrBackend()


@pytest.fixture(scope="module")
def table():
    pdfium = pytest.importorskip("pypdfium2")
    page = pdfium.PdfDocument(str(SAMPLE))[0].render(scale=200 / 72).to_numpy()  # BGR
    return page[TABLE].copy()


# ---------------------------------------------------------------- model folders, set-up errors
def test_model_dirs_hold_what_paddleocr_reads(model_dirs):
    det_dir, rec_dir = model_dirs
    for folder, name in ((det_dir, "PP-OCRv6_small_det"), (rec_dir, "PP-OCRv6_small_rec")):
        assert (folder / "inference.onnx").stat().st_size > 1_000_000
        config = yaml.safe_load((folder / "inference.yml").read_text(encoding="utf-8"))
        assert config["Global"]["model_name"] == name
    rec = yaml.safe_load((rec_dir / "inference.yml").read_text(encoding="utf-8"))
    characters = rec["PostProcess"]["character_dict"]
    assert rec["PostProcess"]["name"] == "CTCLabelDecode"
    assert len(characters) == 18708 and "万" in characters and "0" in characters  # + blank + space = 18710


def test_construction_is_cheap_and_errors_say_what_to_do(tmp_path):
    backend = PaddleOcrBackend(None, None)  # no models, no import: nothing happens yet
    assert backend.name == "paddleocr" and "_detector" not in vars(backend)
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(RuntimeError, match="GONGKAI_PADDLE_DET_DIR.*make_paddle_model_dirs.py"):
        backend.detect(image)
    with pytest.raises(RuntimeError, match="GONGKAI_PADDLE_REC_DIR.*make_paddle_model_dirs.py"):
        backend.recognise([image])
    with pytest.raises(RuntimeError, match="does not exist.*make_paddle_model_dirs.py"):
        PaddleOcrBackend(str(tmp_path / "nowhere"), None).detect(image)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="lacks inference.onnx, inference.yml"):
        PaddleOcrBackend(None, str(tmp_path / "empty")).recognise([image])


def test_missing_paddleocr_says_pip_install(model_dirs, monkeypatch):
    monkeypatch.setitem(sys.modules, "paddleocr", None)  # makes `import paddleocr` fail
    backend = PaddleOcrBackend(*(str(d) for d in model_dirs))
    with pytest.raises(RuntimeError, match=r"pip install 'gongkai\[paddle\]'"):
        _ = backend._recogniser


def test_backend_from_settings_env(monkeypatch, model_dirs):
    det_dir, rec_dir = model_dirs
    monkeypatch.setenv("GONGKAI_OCR_BACKEND", "paddleocr")
    monkeypatch.setenv("GONGKAI_PADDLE_DET_DIR", str(det_dir))
    monkeypatch.setenv("GONGKAI_PADDLE_REC_DIR", str(rec_dir))
    backend = backend_from_settings({"backend": "rapidocr", "paddleocr": {}})
    assert isinstance(backend, PaddleOcrBackend)
    assert (backend.det_dir, backend.rec_dir) == (str(det_dir), str(rec_dir))


# ---------------------------------------------------------------- against the rapidocr backend
@pytest.mark.slow
def test_reads_the_same_text_as_rapidocr(backends, table):
    paddle, rapid = backends
    boxes = rapid.detect(table)
    crops = [crop(table, b) for b in boxes]
    ours, theirs = paddle.recognise(crops), rapid.recognise(crops)
    assert len(ours) == len(crops) >= 25

    digit_pairs = [(p.text, r.text) for p, r in zip(ours, theirs) if DIGITS.fullmatch(r.text)]
    assert len(digit_pairs) >= 10
    assert all(p == r for p, r in digit_pairs), digit_pairs  # numbers: exactly the same
    assert {"22881", "150", "0"} <= {p for p, _ in digit_pairs}

    def norm(s: str) -> str:  # the two differ at most in spaces and full-/half-width brackets
        return re.sub(r"\s", "", s).replace("（", "(").replace("）", ")")

    same = sum(norm(p.text) == norm(r.text) for p, r in zip(ours, theirs))
    assert same >= 0.9 * len(crops), [(p.text, r.text) for p, r in zip(ours, theirs)]

    for reading in ours:  # one line score, given to each character
        assert len(reading.char_confidences) == len(reading.text)
        assert len(set(reading.char_confidences)) <= 1
        assert getattr(reading, "constrained", None) is None  # no charset pass: cannot constrain


@pytest.mark.slow
def test_charset_is_not_honoured_but_harmless(backends, table):
    paddle, rapid = backends
    boxes = rapid.detect(table)
    crops = [crop(table, b) for b in boxes][:6]
    assert [r.text for r in paddle.recognise(crops, charset="0123456789")] == \
        [r.text for r in paddle.recognise(crops)]
    assert [r.text for r in paddle.recognise([table[:0], table[:1, :1]])] == ["", ""]


@pytest.mark.slow
def test_detect_finds_rapidocrs_lines(backends, table):
    paddle, rapid = backends
    ours, theirs = paddle.detect(table), rapid.detect(table)
    assert abs(len(ours) - len(theirs)) <= 0.2 * len(theirs)
    h, w = table.shape[:2]
    for x0, y0, x1, y1 in ours:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h

    def iou(a, b):
        ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = ix * iy
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    matched = sum(max((iou(t, o) for o in ours), default=0.0) >= 0.5 for t in theirs)
    assert matched >= 0.9 * len(theirs)

    lines = read_lines(paddle, table)  # the shared detect + read step works on this backend
    assert {"22881", "150"} <= {line.text for line in lines}
