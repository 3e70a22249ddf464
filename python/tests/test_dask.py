"""dask_image.ndfilters.generic_filter with a FilterJIT callable on a cluster of worker processes."""

import os

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import PYTHON_DIR, example_text

da = pytest.importorskip("dask.array", reason="dask is not installed (scripts/python_tests.sh installs it)")
distributed = pytest.importorskip("distributed", reason="distributed is not installed")
ndfilters = pytest.importorskip("dask_image.ndfilters", reason="dask-image is not installed")


def test_dask_image_generic_filter_on_worker_processes_equals_scipy(monkeypatch):
    # Worker processes must import filterjit: they inherit PYTHONPATH.
    paths = [str(PYTHON_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    image = np.random.default_rng(15).random((96, 80))
    footprint = ndi.generate_binary_structure(2, 1)
    callable_ = filterjit.jit_filter(example_text("threshold"), t=0.45)
    expected = ndi.generic_filter(image, callable_, footprint=footprint, mode="reflect")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        chunks = da.from_array(image, chunks=(40, 30))
        result = ndfilters.generic_filter(chunks, callable_, footprint=footprint, mode="reflect")
        actual = client.compute(result).result()
        # Every chunk ran in a worker process, none in this one.
        workers = client.run(lambda: os.getpid())
        assert len(workers) == 2 and os.getpid() not in workers.values()
    np.testing.assert_array_equal(actual, expected)
