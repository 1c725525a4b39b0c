"""Draw the web app's icons (app/web/icons/icon-{192,512}.png) with the standard library only.

Run once after changing the drawing; the PNGs are committed. The picture stays inside the
central 80 % circle, so it also works as a maskable icon.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "app" / "web" / "icons"
BACKGROUND = (164, 71, 31)
HOUSE = (251, 247, 242)
FLAME = (236, 140, 52)
SUPERSAMPLE = 3


def _inside_triangle(x: float, y: float, a: tuple, b: tuple, c: tuple) -> bool:
    def side(p: tuple, q: tuple) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    return (s1 >= 0 and s2 >= 0 and s3 >= 0) or (s1 <= 0 and s2 <= 0 and s3 <= 0)


def _colour(x: float, y: float) -> tuple[int, int, int]:
    """The picture in unit coordinates (0..1, y down)."""
    flame = (x - 0.5) ** 2 + (y - 0.665) ** 2 <= 0.085**2 or _inside_triangle(
        x, y, (0.418, 0.64), (0.5, 0.45), (0.582, 0.64)
    )
    if flame:
        return FLAME
    house = (0.28 <= x <= 0.72 and 0.47 <= y <= 0.78) or _inside_triangle(
        x, y, (0.18, 0.5), (0.5, 0.2), (0.82, 0.5)
    )
    return HOUSE if house else BACKGROUND


def render(size: int) -> bytes:
    n = SUPERSAMPLE
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter type None
        for px in range(size):
            acc = [0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = _colour((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    acc[0] += c[0]
                    acc[1] += c[1]
                    acc[2] += c[2]
            row += bytes(v // (n * n) for v in acc)
        rows.append(bytes(row))
    return _png(size, b"".join(rows))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        path = OUT / f"icon-{size}.png"
        path.write_bytes(render(size))
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
