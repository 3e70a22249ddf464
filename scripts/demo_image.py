"""Makes the demo's input image and, later, the side-by-side PNG of input and output.

    python3 scripts/demo_image.py make IMAGE.npy           a seeded 1024x1024 uint8 test image
    python3 scripts/demo_image.py side IN.npy OUT.npy PNG  input | output, side by side, as a grey PNG

Only NumPy and the standard library (zlib) are used, so the demo needs nothing else.
"""
import struct
import sys
import zlib

import numpy as np


def make(path):
    """Bright disks and a gradient on a dark background, with salt-and-pepper noise."""
    rng = np.random.default_rng(2026)
    n = 1024
    y, x = np.mgrid[0:n, 0:n]
    image = 40 + 60 * (x / n)
    for _ in range(40):
        cy, cx, r = rng.integers(0, n), rng.integers(0, n), rng.integers(10, 60)
        image[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.integers(150, 255)
    noise = rng.random((n, n))
    image[noise < 0.02] = 255
    image[noise > 0.98] = 0
    np.save(path, image.astype(np.uint8))


def write_png(path, grey):
    """A minimal 8-bit greyscale PNG writer (no filtering, one IDAT chunk)."""
    height, width = grey.shape
    raw = b"".join(b"\x00" + grey[row].tobytes() for row in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def side(input_path, output_path, png_path):
    a, b = np.load(input_path), np.load(output_path)
    gap = np.full((a.shape[0], 8), 255, dtype=np.uint8)
    write_png(png_path, np.ascontiguousarray(np.hstack([a.astype(np.uint8), gap, b.astype(np.uint8)])))


if __name__ == "__main__":
    if sys.argv[1:2] == ["make"] and len(sys.argv) == 3:
        make(sys.argv[2])
    elif sys.argv[1:2] == ["side"] and len(sys.argv) == 5:
        side(*sys.argv[2:])
    else:
        sys.exit(__doc__)
