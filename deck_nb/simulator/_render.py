"""Small real files written by hand: one-page text PDFs (any size, streamed) and flat-colour PNGs.

No PDF or imaging library: a PDF reader must open what the simulator serves, and the runtime stays
httpx + Starlette. A large PDF carries an unreferenced filler stream, produced in chunks, so the
simulator never holds a 50 MB file in memory.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache

CHUNK = 64 * 1024


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _objects(lines: list[str]) -> list[bytes]:
    body = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        body.append(f"({_escape(line.encode('latin-1', 'replace').decode('latin-1'))}) Tj T*")
    body.append("ET")
    content = "\n".join(body).encode("latin-1")
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]


@lru_cache(maxsize=4)
def _filler_block(seed: str) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < CHUNK:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:CHUNK])


def _filler(seed: str, length: int) -> Iterator[bytes]:
    block = _filler_block(seed)
    while length > 0:
        piece = block[: min(length, CHUNK)]
        length -= len(piece)
        yield piece


class Pdf:
    """A one-page PDF of text lines, optionally padded to ``size`` bytes exactly (if it fits)."""

    def __init__(self, lines: list[str], size: int | None = None, seed: str = "deck") -> None:
        self.seed = seed
        self.head = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: list[int] = []
        for number, obj in enumerate(_objects(lines), start=1):
            self.offsets.append(len(self.head))
            self.head += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
        self.filler = 0
        if size is not None:
            self.filler = self._fit(size)
        self.size = len(self.head) + len(self._pad_open()) + self.filler + len(self._tail())

    def _padded(self) -> bool:
        return self.filler > 0

    def _pad_open(self) -> bytes:
        return b"6 0 obj\n<< /Length %d >>\nstream\n" % self.filler if self._padded() else b""

    def _pad_close(self) -> bytes:
        return b"\nendstream\nendobj\n" if self._padded() else b""

    def _tail(self) -> bytes:
        offsets = list(self.offsets)
        xref_at = len(self.head)
        if self._padded():
            offsets.append(len(self.head))
            xref_at += len(self._pad_open()) + self.filler + len(self._pad_close())
        rows = [b"xref\n0 %d\n" % (len(offsets) + 1), b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % o for o in offsets]
        trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref_at)
        return self._pad_close() + b"".join(rows) + trailer

    def _fit(self, size: int) -> int:
        """The filler length that makes the whole file ``size`` bytes (digit counts shift the sums)."""
        self.filler = 1
        for _ in range(8):
            total = len(self.head) + len(self._pad_open()) + self.filler + len(self._tail())
            if total == size:
                return self.filler
            self.filler = max(1, self.filler + size - total)
        return self.filler  # within a few bytes; ``size`` reports the truth

    def chunks(self) -> Iterator[bytes]:
        yield bytes(self.head) + self._pad_open()
        yield from _filler(self.seed, self.filler)
        yield self._tail()


def padded_text(text: bytes, size: int | None) -> tuple[int, Iterator[bytes]]:
    """A text file (CSV), padded with blank lines to ``size`` bytes; readers skip blank lines."""
    pad = max(0, (size or 0) - len(text))

    def chunks() -> Iterator[bytes]:
        yield text
        left = pad
        while left > 0:
            piece = min(left, CHUNK)
            left -= piece
            yield b"\n" * piece

    return len(text) + pad, chunks()


def png(width: int, height: int, seed: str) -> bytes:
    """A small flat PNG with a darker band: deterministic in ``seed``."""
    r, g, b = hashlib.sha256(seed.encode()).digest()[:3]
    light = bytes((r | 0x80, g | 0x80, b | 0x80))
    dark = bytes((r & 0x7F, g & 0x7F, b & 0x7F))
    rows = b"".join(b"\x00" + (dark if y < height // 5 else light) * width for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
