"""skan's `build_graph` (Juan Nunez-Iglesias, "Numba in the real world"), unchanged but for the decorator's
import: the pixel graph of a skeleton image as (row, col) pairs of neighbouring labels, then a sparse matrix.

`steps` is the module global the function reads: the raveled offsets of the 8 neighbours. As Numba does,
FilterJIT freezes it as a constant when the function is decorated, so it is defined first.
"""

import numpy as np
from scipy import sparse

from filterjit import jit

# A 5x7 skeleton (a "Y" and a bar), padded by one pixel: the 7x9 image of the published figures.
SKELETON = np.pad(np.array([
    [1, 0, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 0, 1, 0],
    [0, 0, 1, 1, 1, 0, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 1, 0, 1, 1, 1],
], dtype=bool), 1)
shape = SKELETON.shape
steps = np.array([dy * shape[1] + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)], dtype=np.int64)


@jit
def build_graph(labeled_pixels, steps_to_neighbours, row, col):
    start = np.max(steps_to_neighbours)
    end = len(labeled_pixels) - start
    elem = 0  # row/col index
    for k in range(start, end):
        i = labeled_pixels[k]
        if i != 0:
            for s in steps:
                neighbour = k + s
                j = labeled_pixels[neighbour]
                if j != 0:
                    row[elem] = i
                    col[elem] = j
                    elem += 1


def pixel_graph(skeleton):
    """The sparse adjacency matrix of the skeleton's pixels (labelled 1..n in raveled order)."""
    labels = np.zeros(skeleton.size, dtype=np.int32)
    flat = skeleton.ravel()
    labels[flat] = np.arange(1, flat.sum() + 1, dtype=np.int32)
    padded = np.pad(skeleton, 1).astype(np.uint8)
    degrees = sum(np.roll(np.roll(padded, -dy, 0), -dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                  if (dy, dx) != (0, 0))[1:-1, 1:-1][skeleton]
    row = np.zeros(int(np.sum(degrees)), dtype=np.int32)
    col = np.zeros_like(row)
    build_graph(labels, steps, row, col)
    n = int(flat.sum()) + 1
    return sparse.coo_matrix((np.ones(len(row)), (row, col)), shape=(n, n)).tocsr()


if __name__ == "__main__":
    graph = pixel_graph(SKELETON)
    print(f"{SKELETON.sum()} pixels, {graph.nnz} directed edges")
