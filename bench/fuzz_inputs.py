"""Mutated inputs for bench/fuzz.py: what a crawl really meets, made from the bundled samples.

Each mutation kind is a function (random generator, samples) -> (file name, bytes). The
kinds: truncation, byte flips and inserts, wrong extensions, nesting, huge tables, long
lines, re-encodings (GB, UTF-16 without BOM), image bit depths and modes, zip bombs.
"""
from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SAMPLE_SUFFIXES = (".html", ".txt", ".docx", ".pdf", ".png", ".doc")


@dataclass(frozen=True)
class Sample:
    folder: str
    name: str
    suffix: str
    data: bytes


def load_samples() -> list[Sample]:
    """Every report-like sample file (rendered, real, seeds, scans), read once."""
    found = []
    for folder in ("rendered", "real", "seeds", "scans"):
        for path in sorted((SAMPLES / folder).iterdir()):
            if path.suffix.lower() in SAMPLE_SUFFIXES and "listing" not in path.name:
                found.append(Sample(folder, path.stem, path.suffix.lower(), path.read_bytes()))
    return found


Mutation = Callable[[random.Random, list[Sample], bool], tuple[str, bytes]]


def _pick(rng: random.Random, samples: list[Sample], *suffixes: str) -> Sample:
    """A sample of one of `suffixes`; scans (seconds of OCR each) only when asked for by .png."""
    return rng.choice([s for s in samples if (not suffixes or s.suffix in suffixes)
                       and (s.folder != "scans" or ".png" in suffixes)])


def truncate(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples, *((".png",) if rng.random() < 0.1 else (".html", ".txt", ".docx", ".pdf")))
    cut = rng.randint(1, max(1, len(s.data) - 1))
    return f"{s.name}_cut{cut}{s.suffix}", s.data[:cut]


def flip_bytes(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples)
    data = bytearray(s.data)
    for _ in range(rng.choice((1, 1, 2, 5, 20))):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return f"{s.name}_flip{s.suffix}", bytes(data)


def insert_bytes(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples, ".html", ".txt", ".pdf", ".docx")
    data = bytearray(s.data)
    for _ in range(rng.choice((1, 1, 3, 10))):
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 7))))
    return f"{s.name}_ins{s.suffix}", bytes(data)


def wrong_extension(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples)
    suffix = rng.choice([x for x in (".html", ".txt", ".docx", ".pdf", ".png", ".doc", ".tif") if x != s.suffix])
    return f"{s.name}_as{suffix}", s.data


def _html(rng: random.Random, samples: list[Sample]) -> Sample:
    return _pick(rng, [s for s in samples if s.suffix == ".html" and b"<table" in s.data])


def _after_body(page: bytes, inserted: bytes, closing: bytes = b"") -> bytes:
    at = page.find(b"<body")
    at = page.find(b">", at) + 1 if at >= 0 else 0
    end = page.rfind(b"</body>")
    end = end if end > at else len(page)
    return page[:at] + inserted + page[at:end] + closing + page[end:]


def nesting(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _html(rng, samples)
    tag = rng.choice((b"span", b"div", b"b", b"font", b"table"))
    depth = rng.choice((300, 3000, 50_000))  # cheap at any depth: the walk is iterative
    closed = rng.random() < 0.5
    opening = b"<table><tr><td>" if tag == b"table" else b"<" + tag + b">"
    closing = (b"</td></tr></table>" if tag == b"table" else b"</" + tag + b">") * depth if closed else b""
    return f"{s.name}_nest{tag.decode()}{depth}.html", _after_body(s.data, opening * depth, closing)


def huge_table(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    rows = rng.choice((500, 2_000) if quick else (2_000, 20_000, 60_000))
    cols = rng.choice((3, 8))
    if rng.random() < 0.5:
        body = "".join(f"<tr>{''.join(f'<td>{r * cols + c}</td>' for c in range(cols))}</tr>" for r in range(rows))
        s = _html(rng, samples)
        return f"{s.name}_table{rows}x{cols}.html", _after_body(s.data, f"<table>{body}</table>".encode())
    s = _pick(rng, samples, ".txt")
    grid = "\n".join("\t".join(str(r * cols + c) for c in range(cols)) for r in range(rows))
    return f"{s.name}_table{rows}x{cols}.txt", s.data + b"\n" + grid.encode()


def long_line(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _html(rng, samples)
    size = rng.choice((1_000_000,) if quick else (1_000_000, 11_000_000))
    filler = (
        b"<p>" + "说明文字".encode() * (size // 12) + b"</p>" if rng.random() < 0.5 else b"<!--" + b"x" * size + b"-->"
    )
    return f"{s.name}_line{size}.html", _after_body(s.data.replace(b"\n", b" "), filler)


def re_encode(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples, ".html", ".txt")
    text = s.data.decode("utf-8", "replace")
    encoding = rng.choice(("gb18030", "utf-16-le", "utf-16-be", "utf-8"))
    data = text.replace('charset="utf-8"', "").replace("charset=utf-8", "").encode(encoding, "replace")
    if rng.random() < 0.7:  # a download cut inside a character
        data = data[: rng.randint(len(data) // 2, len(data) - 1)]
    return f"{s.name}_{encoding}{s.suffix}", data


_MODES = ("I;16", "LA", "P", "1", "CMYK", "RGBA", "I", "L")


def bit_depth(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples, ".png")
    img = Image.open(io.BytesIO(s.data)).convert("L")
    img = img.crop((0, 0, img.width, min(img.height, img.width // 2)))  # the top of the page: OCR in seconds
    mode = rng.choice(_MODES)
    if mode in ("I;16", "I"):
        wide = np.asarray(img).astype(np.uint16) * 257
        img = Image.fromarray(wide) if mode == "I;16" else Image.fromarray(wide.astype(np.int32), mode="I")
    elif mode == "LA":
        alpha = Image.fromarray(255 - np.asarray(img))  # text opaque, paper transparent
        img = Image.merge("LA", (Image.new("L", img.size, 0), alpha))
    else:
        img = img.convert(mode)
    fmt = "TIFF" if mode in ("CMYK", "I") or rng.random() < 0.3 else "PNG"
    out = io.BytesIO()
    img.save(out, format=fmt)
    return f"{s.name}_{mode.replace(';', '')}.{fmt.lower()[:3] if fmt == 'TIFF' else 'png'}", out.getvalue()


def zip_bomb(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    s = _pick(rng, samples, ".docx")
    megabytes = rng.choice((1, 40, 300) if quick else (2, 8, 40, 300))
    src = zipfile.ZipFile(io.BytesIO(s.data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                pad = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * (megabytes * 1024 * 1024 // 34)
                at = data.rfind(b"<w:sectPr")
                data = data[:at] + pad + data[at:] if at > 0 else data
            zf.writestr(info, data)
    return f"{s.name}_bomb{megabytes}mb.docx", out.getvalue()


def binary_junk(rng: random.Random, samples: list[Sample], quick: bool) -> tuple[str, bytes]:
    suffix = rng.choice((".html", ".txt", ".pdf", ".docx", ".png"))
    size = rng.choice((1, 17, 4096, 200_000))
    head = rng.choice((b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
    return f"junk{size}{suffix}", head + rng.randbytes(size)


MUTATIONS: dict[str, Mutation] = {
    "truncate": truncate,
    "flip": flip_bytes,
    "insert": insert_bytes,
    "wrong-ext": wrong_extension,
    "nesting": nesting,
    "huge-table": huge_table,
    "long-line": long_line,
    "re-encode": re_encode,
    "bit-depth": bit_depth,
    "zip-bomb": zip_bomb,
    "junk": binary_junk,
}
# Shares of the inputs: OCR'd images and big inputs cost seconds each, byte mutations a fraction.
WEIGHTS = {
    "truncate": 18, "flip": 18, "insert": 12, "wrong-ext": 8, "nesting": 6, "huge-table": 4,
    "long-line": 3, "re-encode": 12, "bit-depth": 2, "zip-bomb": 3, "junk": 6,
}


QUICK_OCR_INPUTS = 3  # OCR'd images in quick mode: each costs seconds even cropped


def plan(n: int, seed: int, quick: bool = False) -> list[tuple[str, int]]:
    """(kind, input seed) for n inputs: every kind at least once, the rest by weight."""
    rng = random.Random(seed)
    kinds = list(MUTATIONS)
    weighted = [k for k in kinds if not (quick and k == "bit-depth")]
    fixed = kinds + (["bit-depth"] * (QUICK_OCR_INPUTS - 1) if quick else [])
    chosen = fixed[:n] + rng.choices(weighted, weights=[WEIGHTS[k] for k in weighted], k=max(0, n - len(fixed)))
    rng.shuffle(chosen)
    return [(kind, rng.randrange(1 << 30)) for kind in chosen]


def make_input(kind: str, input_seed: int, samples: list[Sample], quick: bool = False) -> tuple[str, bytes]:
    return MUTATIONS[kind](random.Random(input_seed), samples, quick)
