#!/usr/bin/env python3
"""Build the two local model folders paddleocr needs, from the ONNX models in rapidocr's wheel.

    python scripts/make_paddle_model_dirs.py                 # -> ~/.local/share/gongkai/paddle-models/
    python scripts/make_paddle_model_dirs.py /some/folder    # anywhere else
    python scripts/make_paddle_model_dirs.py --symlink       # link inference.onnx instead of copying
    python scripts/make_paddle_model_dirs.py --rec-width 320 # pad crops as stock paddleocr does (slower)

paddleocr's own constructors download their models, which fails offline. Given a local
folder holding `inference.onnx` + `inference.yml` and `engine="onnxruntime"`, paddleocr
3.x runs it without paddlepaddle and without any download. rapidocr==3.10.0 ships
the PP-OCRv6 small detector and recogniser as ONNX files; this script puts each into
such a folder and writes the `inference.yml` paddlex reads from it
(paddlex/inference/models/utils/model_config.py, text_detection/predictor.py,
text_recognition/predictor.py):

- `Global.model_name`: must be a name paddlex knows (PP-OCRv6_small_det / _rec), and
  the same name must be passed to paddleocr's TextDetection / TextRecognition.
- `PreProcess.transform_ops`: DecodeImage (BGR, as PP-OCR is trained), then for the
  detector DetResizeForTest + NormalizeImage (ImageNet mean/std) + ToCHWImage, for the
  recogniser RecResizeImg (3×48×W: crops are scaled to height 48 and padded to at least
  W px). Stock paddleocr models say W=320; here W defaults to 32, i.e. each crop is read
  at its own width, as gongkai's rapidocr backend reads it: a one-digit table cell padded
  to 320 px cost 3-4x as much (page 2 of sample 001: ~7 s instead of ~27 s of recognition
  on 2 loaded cores), and the readings then match the rapidocr backend's. `--rec-width 320`
  gives stock behaviour.
- `PostProcess`: DBPostProcess thresholds for the detector; CTCLabelDecode with the
  `character_dict` for the recogniser. That list is not in the wheel as a file: it is
  the ONNX file's metadata entry "character" (one character a line; paddlex adds the
  CTC blank in front and the space at the end itself: 18708 + 2 = the model's 18710 classes).

Then: GONGKAI_OCR_BACKEND=paddleocr GONGKAI_PADDLE_DET_DIR=... GONGKAI_PADDLE_REC_DIR=...
(or the same in config/ocr.yaml).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import yaml

DEFAULT_OUT = Path.home() / ".local" / "share" / "gongkai" / "paddle-models"
DET_NAME = "PP-OCRv6_small_det"
REC_NAME = "PP-OCRv6_small_rec"
# The rapidocr==3.10.0 wheel's file names for the same models.
DET_ONNX = "PP-OCRv6_det_small.onnx"
REC_ONNX = "PP-OCRv6_rec_small.onnx"


def rapidocr_models_dir() -> Path:
    """rapidocr's bundled models folder, found without importing rapidocr."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("rapidocr is not installed: pip install rapidocr==3.10.0")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def det_config(model_name: str = DET_NAME) -> dict:
    """What paddlex's TextDetRunnerPredictor reads; values as in paddleocr's OCR pipeline."""
    return {
        "Global": {"model_name": model_name},
        "PreProcess": {"transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"DetLabelEncode": None},
            {"DetResizeForTest": {"resize_long": 960}},
            {"NormalizeImage": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                                "scale": "1./255.", "order": "hwc"}},
            {"ToCHWImage": None},
            {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
        ]},
        "PostProcess": {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6,
                        "max_candidates": 1000, "unclip_ratio": 1.5},
    }


REC_WIDTH = 32  # crops narrower than this are padded; 320 in stock paddleocr models


def rec_config(characters: list[str], model_name: str = REC_NAME, rec_width: int = REC_WIDTH) -> dict:
    """What paddlex's TextRecRunnerPredictor reads."""
    return {
        "Global": {"model_name": model_name},
        "PreProcess": {"transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
            {"RecResizeImg": {"image_shape": [3, 48, int(rec_width)]}},
            {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}},
        ]},
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": characters},
    }


def onnx_characters(onnx_path: Path) -> list[str]:
    """The recogniser's character list, stored in the ONNX file's metadata ("character")."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    if "character" not in meta:
        raise RuntimeError(f"{onnx_path} has no 'character' metadata: not a PP-OCR recogniser")
    characters = meta["character"].split("\n")
    if characters and characters[-1] == "":
        characters.pop()
    classes = session.get_outputs()[0].shape[-1]
    if isinstance(classes, int) and classes != len(characters) + 2:
        raise RuntimeError(f"{onnx_path}: {len(characters)} characters + blank + space "
                           f"!= {classes} output classes")
    return characters


def _place(src: Path, dst: Path, symlink: bool) -> None:
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    if symlink:
        dst.symlink_to(src.resolve())
    else:
        shutil.copyfile(src, dst)


def _write_yaml(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".yml.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, allow_unicode=True, sort_keys=False, width=1 << 20)
    os.replace(tmp, path)


def build_model_dirs(out_dir: str | Path = DEFAULT_OUT, *, models_dir: str | Path | None = None,
                     symlink: bool = False, rec_width: int = REC_WIDTH) -> tuple[Path, Path]:
    """Write `<out_dir>/PP-OCRv6_small_det` and `<out_dir>/PP-OCRv6_small_rec`; return (det, rec).

    Each holds inference.onnx (copied, or linked with symlink=True) and inference.yml.
    Idempotent: running it again rewrites both folders.
    """
    src = Path(models_dir) if models_dir else rapidocr_models_dir()
    det_onnx, rec_onnx = src / DET_ONNX, src / REC_ONNX
    for f in (det_onnx, rec_onnx):
        if not f.is_file():
            raise RuntimeError(f"{f} not found (expected in the rapidocr==3.10.0 wheel)")
    out = Path(out_dir).expanduser()
    det_dir, rec_dir = out / DET_NAME, out / REC_NAME
    for d in (det_dir, rec_dir):
        d.mkdir(parents=True, exist_ok=True)

    _place(det_onnx, det_dir / "inference.onnx", symlink)
    _write_yaml(det_dir / "inference.yml", det_config())
    _place(rec_onnx, rec_dir / "inference.onnx", symlink)
    _write_yaml(rec_dir / "inference.yml", rec_config(onnx_characters(rec_onnx), rec_width=rec_width))
    return det_dir.resolve(), rec_dir.resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", default=str(DEFAULT_OUT),
                        help=f"where to write the two folders (default: {DEFAULT_OUT})")
    parser.add_argument("--models-dir", help="folder holding the ONNX files (default: rapidocr's wheel)")
    parser.add_argument("--symlink", action="store_true", help="link inference.onnx instead of copying")
    parser.add_argument("--rec-width", type=int, default=REC_WIDTH,
                        help=f"pad recognition crops to at least this width (default {REC_WIDTH}: "
                             "own width; 320: as stock paddleocr, slower)")
    args = parser.parse_args(argv)
    try:
        det_dir, rec_dir = build_model_dirs(args.out_dir, models_dir=args.models_dir, symlink=args.symlink,
                                            rec_width=args.rec_width)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"detection model:   {det_dir}")
    print(f"recognition model: {rec_dir}")
    print()
    print("Use them with (or set paddleocr.text_*_model_dir in config/ocr.yaml):")
    print(f"GONGKAI_OCR_BACKEND=paddleocr GONGKAI_PADDLE_DET_DIR={det_dir} GONGKAI_PADDLE_REC_DIR={rec_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
