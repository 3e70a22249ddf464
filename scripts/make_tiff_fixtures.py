#!/usr/bin/env python3
"""Writes the TIFF reader's fixtures with tifffile: Tests/Fixtures/ndimage/tiff/NAME.tif, the array tifffile
reads from it as NAME.npy, and index.json (good files with their tags; bad files with the message expected).

Usage: python3 scripts/make_tiff_fixtures.py   (needs numpy and tifffile; deterministic)
"""

import json
from pathlib import Path

import numpy as np
import tifffile

OUT = Path(__file__).resolve().parents[1] / "Tests" / "Fixtures" / "ndimage" / "tiff"


def data(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        values = (rng.standard_normal(shape) * 100).astype(dtype)
        values.flat[0], values.flat[1] = np.nan, -0.0
        return values
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    good, bad = [], []

    def add(name, array, **options):
        path = OUT / f"{name}.tif"
        tifffile.imwrite(path, array, **options)
        read = tifffile.imread(path)
        np.save(OUT / f"{name}.npy", read)
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            description = page.tags.get("ImageDescription")
            resolution = page.tags.get("XResolution"), page.tags.get("YResolution")
            unit = page.tags.get("ResolutionUnit")
            entry = {"file": f"{name}.tif", "npy": f"{name}.npy", "pages": len(tif.pages),
                     "description": description.value if description else None,
                     "resolution": [resolution[0].value[0] / resolution[0].value[1],
                                    resolution[1].value[0] / resolution[1].value[1]] if resolution[0] else None,
                     "resolution_unit": int(unit.value) if unit else 2}
        good.append(entry)

    for index, dtype in enumerate(["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
                                   "float32", "float64"]):
        add(f"{dtype}_2d", data(dtype, (7, 5), index), photometric="minisblack", metadata=None)
    add("uint16_stack", data("uint16", (3, 6, 4), 20), photometric="minisblack", metadata=None)
    add("float32_stack_bigendian", data("float32", (2, 5, 3), 21), photometric="minisblack", byteorder=">",
        metadata=None)
    add("float32_tiled", data("float32", (40, 37), 22), photometric="minisblack", tile=(16, 16), metadata=None)
    add("uint8_strips_of_3", data("uint8", (10, 9), 23), photometric="minisblack", rowsperstrip=3, metadata=None)
    add("uint16_deflate", data("uint16", (12, 11), 24), photometric="minisblack", compression="zlib", metadata=None)
    add("float64_tags", data("float64", (4, 4), 25), photometric="minisblack", metadata=None,
        description="sample 17, 0.5 um per pixel", resolution=(2.0, 4.0), resolutionunit="CENTIMETER")
    add("int16_bigtiff", data("int16", (6, 3), 26), photometric="minisblack", bigtiff=True, metadata=None)

    def add_bad(name, array, message, **options):
        tifffile.imwrite(OUT / f"{name}.tif", array, **options)
        bad.append({"file": f"{name}.tif", "message": message})

    add_bad("rgb", data("uint8", (4, 5, 3), 30), "3 samples per pixel", photometric="rgb", metadata=None)
    add_bad("bilevel", np.zeros((8, 8), bool), "1-bit unsigned integer samples", photometric="minisblack",
            metadata=None)
    add_bad("complex", np.zeros((3, 3), np.complex64), "64-bit sample format 6", photometric="minisblack",
            metadata=None)
    with tifffile.TiffWriter(OUT / "mixed_pages.tif") as writer:
        writer.write(data("uint8", (4, 4), 31), photometric="minisblack", metadata=None)
        writer.write(data("uint8", (5, 4), 32), photometric="minisblack", metadata=None)
    bad.append({"file": "mixed_pages.tif", "message": "page 2 is 4x5 uint8 but page 1 is 4x4 uint8"})
    (OUT / "not_a_tiff.tif").write_bytes(b"P5\n2 2\n255\n\x00\x01\x02\x03")
    bad.append({"file": "not_a_tiff.tif", "message": "cannot read the file"})
    (OUT / "index.json").write_text(json.dumps({"good": good, "bad": bad}, indent=1) + "\n")
    print(f"{len(good)} good and {len(bad)} bad TIFF fixtures in {OUT}")


if __name__ == "__main__":
    main()
