"""Shared helpers: the example kernels and their plain-Python twins, built from the same text."""

import ast
import atexit
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPOSITORY = PYTHON_DIR.parent
EXAMPLES = REPOSITORY / "examples"
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))
# A private on-disk kernel cache for this run (read before the first compile; workers inherit it).
os.environ["FILTERJIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="filterjit-test-cache-")
atexit.register(shutil.rmtree, os.environ["FILTERJIT_CACHE_DIR"], ignore_errors=True)
os.environ.pop("FILTERJIT_DISK_CACHE", None)

# Names a filter file may use bare, with their NumPy/Python meaning (spec: filter-language.md).
PLAIN_NAMESPACE = {
    "np": np, "math": math, "inf": math.inf, "nan": math.nan, "pi": math.pi,
    "median": np.median, "mean": np.mean, "var": np.var, "std": np.std, "prod": np.prod,
}


def example_text(name: str) -> str:
    return (EXAMPLES / f"{name}.filter").read_text()


def plain_python(text: str, numpy=np):
    """The Python function a filter file's text means: its last `def` (decorators removed), or
    `lambda values: <expression>` for the one-line form. `numpy` stands for NumPy where the text
    says `np` (a stand-in with libm's transcendental functions, for instance)."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("@")]
    body = "\n".join(lines)
    tree = ast.parse(body)
    defs = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    namespace = dict(PLAIN_NAMESPACE, np=numpy)
    if defs:
        exec(compile(body, "<plain>", "exec"), namespace)
        return namespace[defs[-1]]
    expression = next(node for node in tree.body if isinstance(node, ast.Expr))
    code = compile(ast.Expression(expression.value), "<plain>", "eval")
    return lambda values: eval(code, namespace, {"values": values})


@pytest.fixture(scope="session")
def rng_seed():
    seed = 20261128
    print(f"random seed {seed}")
    return seed
