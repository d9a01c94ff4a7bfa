"""Legacy Word (.doc): converted to .docx by LibreOffice, then read by the DOCX reader."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from gongkai.models import Document, SourceInfo

from .base import ReaderError
from .docx import DocxReader

CONVERT_TIMEOUT_S = 120
MAX_DOC_BYTES = 200 * 1024 * 1024
INSTALL_HINT = (
    "reading .doc needs LibreOffice: run scripts/install_system_packages.sh --with-libreoffice "
    "(Debian: apt-get install libreoffice-writer-nogui)"
)


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(soffice: str, path: Path, workdir: Path) -> Path:
    """Run a headless conversion in `workdir`; the private profile lets parallel runs coexist."""
    # A fixed ASCII name: LibreOffice mangles some non-ASCII names in its output path.
    src = workdir / "input.doc"
    shutil.copyfile(path, src)
    profile = (workdir / "profile").as_uri()
    cmd = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
           "--convert-to", "docx", "--outdir", str(workdir), str(src)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ReaderError("corrupt", f"{path.name}: LibreOffice gave no result within {CONVERT_TIMEOUT_S} s") from exc
    out = workdir / "input.docx"
    if done.returncode != 0 or not out.exists():
        detail = done.stderr.decode("utf-8", "replace").strip()[-300:]
        raise ReaderError(
            "corrupt", f"{path.name}: LibreOffice could not convert it (exit {done.returncode}): {detail}"
        )
    return out


class DocReader:
    """Reads .doc through LibreOffice; cells keep source 'doc'."""

    media_types: tuple[str, ...] = ("application/msword", "application/rtf")

    def read(self, path: Path, source: SourceInfo) -> Document:
        size = path.stat().st_size
        if size == 0:
            raise ReaderError("empty", f"{path.name} is empty (0 bytes)")
        if size > MAX_DOC_BYTES:
            raise ReaderError("too-large", f"{path.name} is {size} bytes; .doc over {MAX_DOC_BYTES} bytes is refused")
        misnamed = _misnamed(path, source.media_type)
        soffice = find_soffice()
        if soffice is None:
            raise ReaderError("missing-dependency", f"{misnamed}; {INSTALL_HINT}" if misnamed else INSTALL_HINT)
        with tempfile.TemporaryDirectory(prefix="gongkai-doc-") as tmp:
            converted = convert_to_docx(soffice, path, Path(tmp))
            document = DocxReader(cell_source="doc").read(converted, source)
        document.warnings += [misnamed] if misnamed else []
        return document


def _misnamed(path: Path, media_type: str) -> str | None:
    """What the file really is, when its name says otherwise (a .doc saved as .docx)."""
    if media_type != "application/msword" or path.suffix.lower() == ".doc":
        return None
    return f"{path.name} is a Word 97-2003 document (.doc) despite its {path.suffix} name"
