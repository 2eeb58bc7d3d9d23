"""Tests import the package from this source tree (not an installed copy)
and share the repository's bundled example."""
import pathlib
import sys

import pytest

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def digits(repo):
    import numpy as np
    data = repo / "examples" / "mlp_digits" / "data"
    return {name: np.load(data / (name + ".npy")) for name in
            ("train_images", "train_labels", "val_images", "val_labels")}


@pytest.fixture(scope="session")
def digits_model(repo):
    return repo / "examples" / "mlp_digits" / "mlp_digits.onnx"


@pytest.fixture(scope="session")
def transformer_model(repo):
    return repo / "test" / "Target" / "ONNX" / "Inputs" / \
        "transformer_encoder.onnx"
