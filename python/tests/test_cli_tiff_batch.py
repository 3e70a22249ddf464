"""The command line with TIFF files (compared with tifffile) and batch runs (`--output-dir`)."""

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi

from conftest import REPOSITORY

tifffile = pytest.importorskip("tifffile")


def cli() -> Path:
    """The filterjit executable next to the library under test (else the debug, then release build)."""
    library = os.environ.get("FILTERJIT_LIB")
    folders = [Path(library).parent] if library else []
    folders += [REPOSITORY / ".build" / "debug", REPOSITORY / ".build" / "release"]
    for folder in folders:
        if (folder / "filterjit").is_file():
            return folder / "filterjit"
    pytest.skip("no filterjit executable built")


def run(*arguments, check=True):
    result = subprocess.run([str(cli()), *map(str, arguments)], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"]


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 50).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9, 7), (3, 6, 5)])
def test_tiff_in_and_out_equal_tifffile(tmp_path, dtype, shape):
    data = sample(dtype, shape)
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, data, photometric="minisblack", metadata=None, description="stack of cells",
                     resolution=(4.0, 2.0), resolutionunit="CENTIMETER")
    # The identity filter: what FilterJIT read comes back out as .npy and as .tif.
    run("run", "-e", "values[0]", "--size", "1", "--input", source, "--output", tmp_path / "out.npy")
    assert np.array_equal(np.load(tmp_path / "out.npy"), tifffile.imread(source), equal_nan=True)
    run("run", "-e", "values[0]", "--size", "1", "--input", source, "--output", tmp_path / "out.tif")
    written = tifffile.imread(tmp_path / "out.tif")
    assert written.dtype == data.dtype and np.array_equal(written, data, equal_nan=True)
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert len(tif.pages) == (shape[0] if len(shape) == 3 else 1)
        tags = tif.pages[0].tags
        assert tags["ImageDescription"].value == "stack of cells"
        assert tags["XResolution"].value == (4, 1) and tags["YResolution"].value == (2, 1)
        assert int(tags["ResolutionUnit"].value) == 3


def test_filtering_a_tiff_stack_equals_scipy(tmp_path):
    data = sample("uint16", (4, 20, 17), seed=3)
    tifffile.imwrite(tmp_path / "stack.tif", data, photometric="minisblack", metadata=None)
    run("run", "-e", "median(values)", "--size", "3", "--mode", "nearest", "--input", tmp_path / "stack.tif",
        "--output", tmp_path / "median.tif")
    assert np.array_equal(tifffile.imread(tmp_path / "median.tif"), ndi.median_filter(data, size=3, mode="nearest"))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "rgb"])
def test_bad_tiff_input_is_a_clear_error_and_writes_nothing(tmp_path, damage):
    source = tmp_path / "bad.tif"
    if damage == "rgb":
        tifffile.imwrite(source, sample("uint8", (4, 4, 3)), photometric="rgb")
    else:
        tifffile.imwrite(source, sample("uint16", (30, 30)), photometric="minisblack")
        data = source.read_bytes()
        source.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"II*\x00" + bytes(range(200)))
    result = run("run", "-e", "min(values)", "--input", source, "--output", tmp_path / "out.tif", check=False)
    assert result.returncode == 1
    assert re.match(r"error: TIFF: ", result.stderr), result.stderr
    assert not (tmp_path / "out.tif").exists()


def make_batch(folder: Path, count: int, broken: bool) -> list[np.ndarray]:
    folder.mkdir()
    images = []
    for index in range(count):
        image = sample("uint16", (33, 29), seed=index)
        tifffile.imwrite(folder / f"img{index:02d}.tif", image, photometric="minisblack", metadata=None)
        images.append(image)
    if broken:
        (folder / "img99.tif").write_bytes(b"II*\x00 this is not a TIFF")
    return images


def test_batch_filters_every_file_once_compiled_and_reports_the_broken_one(tmp_path):
    images = make_batch(tmp_path / "data", 7, broken=True)
    (tmp_path / "out").mkdir()
    result = run("run", "-e", "median(values)", "--size", "3", "--input", str(tmp_path / "data" / "*.tif"),
                 "--output-dir", tmp_path / "out", "--threads", "2", check=False)
    assert result.returncode == 1
    assert f"error: {tmp_path / 'data' / 'img99.tif'}: TIFF: " in result.stderr
    assert "\r" not in result.stderr, "no progress bar when stderr is not a terminal"
    assert re.fullmatch(r"8 files, 1 failed, 6,699 pixels, \d+\.\d\d s\n", result.stdout), result.stdout
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == [f"img{index:02d}.tif" for index in range(7)], "no temporary or half-written files"
    for index, image in enumerate(images):
        assert np.array_equal(tifffile.imread(tmp_path / "out" / f"img{index:02d}.tif"), ndi.median_filter(image, size=3))


def test_batch_takes_a_directory_and_succeeds_with_status_zero(tmp_path):
    images = make_batch(tmp_path / "data", 3, broken=False)
    (tmp_path / "out").mkdir()
    result = run("run", "-e", "min(values)", "--footprint", "cross", "--input", tmp_path / "data",
                 "--output-dir", tmp_path / "out")
    assert result.stdout.startswith("3 files, 2,871 pixels, ")
    cross = ndi.generate_binary_structure(2, 1)
    for index, image in enumerate(images):
        assert np.array_equal(tifffile.imread(tmp_path / "out" / f"img{index:02d}.tif"),
                              ndi.grey_erosion(image, footprint=cross))


@pytest.mark.parametrize("threads", [1, 3])
def test_batch_read_ahead_and_reused_outputs_equal_scipy_with_broken_files_first_and_between(tmp_path, threads):
    # 30 files of two shapes and two dtypes (files are read while the kernel compiles, and each worker
    # reuses its output array while shape and dtype stay), broken files first and in the middle.
    folder = tmp_path / "data"
    folder.mkdir()
    images = {}
    for index in range(30):
        name = f"img{index:02d}.tif"
        if index in (0, 17):
            (folder / name).write_bytes(b"II*\x00" + bytes(40))
            continue
        image = sample("uint16" if index % 3 else "float32", (40, 31) if index % 2 else (31, 40), seed=index)
        tifffile.imwrite(folder / name, image, photometric="minisblack", metadata=None)
        images[name] = image
    (tmp_path / "out").mkdir()
    result = run("run", "-e", "median(values)", "--size", "3", "--input", folder, "--output-dir", tmp_path / "out",
                 "--threads", threads, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("error: ") == 2, result.stderr
    assert re.fullmatch(rf"30 files, 2 failed, {28 * 40 * 31:,} pixels, \d+\.\d\d s\n", result.stdout), result.stdout
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(images)
    for name, image in images.items():
        written = tifffile.imread(tmp_path / "out" / name)
        assert written.dtype == image.dtype
        assert np.array_equal(written, ndi.median_filter(image, size=3)), name


def test_batch_without_matches_or_with_both_outputs_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    result = run("run", "-e", "min(values)", "--input", str(tmp_path / "*.tif"), "--output-dir", tmp_path / "out",
                 check=False)
    assert result.returncode == 1 and "no image files" in result.stderr
    result = run("run", "-e", "min(values)", "--input", "x.tif", "--output", "y.tif", "--output-dir", tmp_path / "out",
                 check=False)
    assert result.returncode == 64
