"""Every data set's shape after encoding, and the paper's counts."""

import re

import numpy as np
import pytest

from mlextract import datasets
from mlextract.experiments import DataAbsent as ExperimentsDataAbsent

# name: (rows, features, classes). The paper's counts (Tramèr et al. 2016, Table 3)
# for Adult, Steak and GSS; the others are the source files' own sizes.
SHAPES = {
    "iris": (150, 4, 3),
    "digits": (1797, 64, 10),
    "breast_cancer": (569, 30, 2),
    "wine": (178, 13, 3),
    "circles": (5000, 2, 2),
    "moons": (5000, 2, 2),
    "blobs": (5000, 2, 3),
    "five_class": (1000, 20, 5),
    "adult_income": (32561, 108, 2),
    "adult_race": (32561, 105, 5),
    "german_credit": (1000, 61, 2),
    "steak": (331, 40, 5),
    "gss": (16127, 101, 3),
    "gss_numeric": (16127, 22, 3),
}
NOT_SHIPPED = {"steak", "gss", "gss_numeric"}


def test_available_lists_every_set():
    assert datasets.available() == sorted(SHAPES)


def _check(data, name):
    n, d, k = SHAPES[name]
    assert data.X.shape == (n, d) and data.X.dtype == np.float64
    assert data.y.shape == (n,) and np.issubdtype(data.y.dtype, np.integer)
    assert len(data.target_names) == k
    assert sorted(np.unique(data.y)) == list(range(k))  # every class occurs
    assert len(data.feature_names) == d == data.domain.n_features
    assert data.domain.feature_names == data.feature_names
    assert np.all(np.isfinite(data.X))
    assert data.domain.contains(data.X).all()  # the published domain holds the data
    for g in data.domain.one_hot_groups:
        assert np.all(data.X[:, g].sum(axis=1) == 1)
    assert data.name == name and data.description == datasets.describe(name)


@pytest.mark.parametrize("name", sorted(set(SHAPES) - NOT_SHIPPED))
def test_shipped_and_builtin_shapes(name, monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    _check(datasets.load(name), name)


@pytest.mark.parametrize("name", sorted(NOT_SHIPPED))
def test_user_data_shapes(name, data_dir):
    _check(datasets.load(name, data_dir=data_dir), name)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_describe_states_the_shape(name):
    n, d, k = SHAPES[name]
    line = datasets.describe(name)
    assert "\n" not in line
    assert f"{n:,} rows x {d} features, {k} classes" in line


def test_adult_income_encoding():
    data = datasets.load("adult_income")
    assert data.target_names.tolist() == ["<=50K", ">50K"]
    assert np.bincount(data.y).tolist() == [24720, 7841]
    assert data.feature_names[:6] == [
        "age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"
    ]
    assert data.domain.integer.tolist() == list(range(6))
    # '?' kept as a category of its own in the three columns that have it
    for col in ("workclass", "occupation", "native-country"):
        assert f"{col}=?" in data.feature_names
    sizes = [len(g) for g in data.domain.one_hot_groups]
    assert sizes == [9, 16, 7, 15, 6, 5, 2, 42] and 6 + sum(sizes) == 108
    assert data.X[0, 0] == 39 and data.feature_names[int(np.argmax(data.X[0, 6:15])) + 6] == (
        "workclass=State-gov"
    )


def test_adult_race_has_income_as_a_feature():
    data = datasets.load("adult_race")
    assert data.target_names.tolist() == [
        "Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White"
    ]
    assert "income=<=50K" in data.feature_names and "income=>50K" in data.feature_names
    assert not any(f.startswith("race=") for f in data.feature_names)
    assert np.bincount(data.y).tolist() == [311, 1039, 3124, 271, 27816]


def test_german_credit_encoding():
    data = datasets.load("german_credit")
    assert data.target_names.tolist() == ["good", "bad"]
    assert np.bincount(data.y).tolist() == [700, 300]
    assert len(data.domain.one_hot_groups) == 13
    assert data.domain.integer.tolist() == list(range(7))
    purpose = [f for f in data.feature_names if f.startswith("purpose=")]
    assert purpose[-3:] == ["purpose=A48", "purpose=A49", "purpose=A410"]  # natural order
    assert data.X[0, :7].tolist() == [6, 1169, 4, 4, 67, 2, 1]  # the file's first row


def test_steak_encoding(data_dir):
    data = datasets.load("steak", data_dir=data_dir)
    assert data.target_names.tolist() == ["Rare", "Medium rare", "Medium", "Medium Well",
                                          "Well"]
    assert np.bincount(data.y).tolist() == [18, 128, 109, 56, 20]
    assert len(data.domain.one_hot_groups) == 13
    assert "Do you eat steak?=Yes" in data.feature_names
    assert not any(f.startswith("RespondentID") for f in data.feature_names)


def test_gss_encoding(data_dir):
    data = datasets.load("gss", data_dir=data_dir)
    assert data.target_names.tolist() == ["NOT TOO HAPPY", "PRETTY HAPPY", "VERY HAPPY"]
    assert np.bincount(data.y).tolist() == [1187, 8314, 6626]
    assert not any(re.match(r"(year|id)=", f) for f in data.feature_names)
    assert len(data.domain.one_hot_groups) == 8
    children = [f for f in data.feature_names if f.startswith("children=")]
    assert children[0] == "children=0" and children[-1] == "children=EIGHT OR MORE"


def test_gss_numeric_reads_age_and_children_as_numbers(data_dir):
    onehot = datasets.load("gss", data_dir=data_dir)
    data = datasets.load("gss_numeric", data_dir=data_dir)
    assert data.feature_names[:2] == ["children", "age"]
    np.testing.assert_array_equal(data.y, onehot.y)
    # the one-hot row's category, read as a number, is the numeric column's value
    for col, k in (("children", 0), ("age", 1)):
        names = [f for f in onehot.feature_names if f.startswith(col + "=")]
        idx = [onehot.feature_names.index(f) for f in names]
        values = np.array([float(f.split("=")[1].split()[0].replace("EIGHT", "8"))
                           for f in names])
        np.testing.assert_array_equal(values[onehot.X[:, idx].argmax(axis=1)], data.X[:, k])
    assert data.domain.integer.tolist() == [0, 1]
    assert len(data.domain.one_hot_groups) == 6


def test_absent_data_is_a_clear_file_not_found(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    for name in NOT_SHIPPED:
        with pytest.raises(DataAbsent, match=r"not found .*data_dir"):
            datasets.load(name)
        with pytest.raises(FileNotFoundError, match=str(tmp_path)):
            datasets.load(name, data_dir=tmp_path)


DataAbsent = datasets.DataAbsent


def test_one_data_absent_class():
    assert datasets.DataAbsent is ExperimentsDataAbsent
    assert issubclass(DataAbsent, FileNotFoundError)


def test_environment_variable_names_the_folder(data_dir, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(data_dir))
    assert datasets.load("steak").X.shape == (331, 40)


def test_shipped_sets_also_read_the_raw_files_from_a_folder(data_dir, monkeypatch):
    """Without the repository's datasets/ (an installed wheel), the raw UCI files."""
    shipped = datasets.load("german_credit")
    monkeypatch.setattr(datasets, "shipped_dir", lambda: None)
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    with pytest.raises(DataAbsent):
        datasets.load("german_credit")
    raw = datasets.load("german_credit", data_dir=data_dir)
    np.testing.assert_array_equal(raw.X, shipped.X)
    np.testing.assert_array_equal(raw.y, shipped.y)


def test_shipped_files_are_in_the_repository():
    folder = datasets.shipped_dir()
    assert folder is not None and folder.name == "datasets"
    for f in ("adult.data.gz", "german.data.gz", "README.md"):
        assert (folder / f).is_file(), f
    readme = (folder / "README.md").read_text()
    assert "CC BY 4.0" in readme
    for name in SHAPES:
        assert f"`{name}`" in readme, name


def test_synthetic_sets_are_seeded():
    a, b = datasets.load("moons"), datasets.load("moons")
    np.testing.assert_array_equal(a.X, b.X)
    c = datasets.load("moons", random_state=1)
    assert c.X.shape == a.X.shape and not np.array_equal(a.X, c.X)
    with pytest.raises(ValueError, match="random_state must be an int"):
        datasets.load("blobs", random_state="zero")


def test_names_and_aliases():
    assert datasets.load("5class").name == "five_class"
    assert datasets.describe("adult") == datasets.describe("adult_income")
    with pytest.raises(ValueError, match="unknown data set 'mnist'; available: "):
        datasets.load("mnist")
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.describe("mnist")


def test_digits_domain_is_the_published_grey_levels():
    dom = datasets.load("digits").domain
    assert dom.lower.tolist() == [0.0] * 64 and dom.upper.tolist() == [16.0] * 64
    assert dom.integer.size == 64
