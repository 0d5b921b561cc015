"""The data sets of the model-extraction papers, encoded as Tramèr et al. (2016) did.

``load(name)`` returns a :class:`sklearn.utils.Bunch` with ``X`` (float64), ``y``
(integer class codes), ``domain`` (a :class:`~mlextract.oracles.Domain` with its
bounds, integer features and one-hot groups, as a prediction API would publish
them), ``feature_names``, ``target_names`` and ``description``.

Three families:

- scikit-learn's bundled sets: ``iris``, ``digits``, ``breast_cancer``, ``wine``;
- seeded synthetic sets built with scikit-learn's generators, at the sizes of the
  paper's code: ``circles``, ``moons``, ``blobs``, ``five_class``;
- real tabular sets: ``adult_income``, ``adult_race`` and ``german_credit`` (shipped
  compressed in the repository's ``datasets/`` folder, CC BY 4.0), ``steak``, ``gss``
  and ``gss_numeric`` (not shipped: read from ``data_dir`` or
  ``$MLEXTRACT_DATA_DIR``).

Categorical columns are one-hot encoded, one column per value seen in the file, in
sorted order (numbers by value), named ``"column=value"``; numeric columns come
first, unscaled. The paper min-max scaled every feature to [-1, 1] before training;
that is a modelling step left to the experiment (``sklearn.preprocessing``).

References
----------
.. [1] F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. "Stealing
   Machine Learning Models via Prediction APIs". USENIX Security 2016, Table 3.

Examples
--------
>>> from mlextract import datasets
>>> data = datasets.load("adult_income")
>>> data.X.shape, len(data.domain.one_hot_groups)
((32561, 108), 8)
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._exceptions import DataAbsent
from .oracles import Domain

__all__ = ["available", "describe", "load", "shipped_dir", "DataAbsent"]

#: Environment variable naming the folder with the data sets mlextract does not ship.
DATA_DIR_ENV = "MLEXTRACT_DATA_DIR"


# ---------------------------------------------------------------------- files
def shipped_dir() -> Path | None:
    """The folder of the shipped data files.

    The repository's ``datasets/`` (a source checkout or an editable install), else
    ``<prefix>/share/mlextract/datasets`` where a regular install puts them.
    """
    here = Path(__file__).resolve().parent
    for cand in (here.parent / "datasets",
                 Path(sys.prefix) / "share" / "mlextract" / "datasets"):
        if (cand / "adult.data.gz").is_file():
            return cand
    return None


def _user_dir(data_dir) -> Path | None:
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else None


def _open_text(filename: str, *, data_dir=None, shipped: bool):
    """Open ``filename`` (or ``filename.gz``) as text, wherever it lives.

    Shipped sets are looked up in the repository's ``datasets/`` folder first, then
    in the user's folder; the others only in the user's folder (``data_dir``, else
    ``$MLEXTRACT_DATA_DIR``).
    """
    folders = []
    if shipped and shipped_dir() is not None:
        folders.append(shipped_dir())
    user = _user_dir(data_dir)
    if user is not None:
        folders.append(user)
    for folder in folders:
        for name in (filename, filename + ".gz"):
            path = folder / name
            if path.is_file():
                # newline="" lets csv see old-Mac "\r" line ends as line ends.
                if name.endswith(".gz"):
                    return io.TextIOWrapper(
                        gzip.open(path, "rb"), encoding="utf-8", newline=""
                    )
                return open(path, encoding="utf-8", newline="")
    where = ", ".join(str(f) for f in folders) or "no folder"
    hint = (
        "mlextract may not ship this file: pass data_dir=... (--data-dir on the command "
        f"line) or set ${DATA_DIR_ENV} to the folder that holds it"
    )
    raise DataAbsent(f"{filename} not found (looked in: {where}). {hint}.")


def _read_rows(filename, *, data_dir=None, shipped, **csv_args) -> list[list[str]]:
    with _open_text(filename, data_dir=data_dir, shipped=shipped) as fh:
        return [row for row in csv.reader(fh, **csv_args) if row and any(row)]


# ---------------------------------------------------------------------- encoding
def _natural(value: str):
    """Sort key: numbers by value, then text; 'A410' after 'A49'."""
    m = re.fullmatch(r"([^\d]*)(\d+)", value)
    if m:
        return (0, m.group(1), int(m.group(2)), "")
    return (1, "", 0, value)


def _encode(columns, numeric, categorical):
    """Numeric columns, then a one-hot block per categorical column.

    Parameters
    ----------
    columns : dict of str to list of str
        The raw columns of the table.
    numeric, categorical : list of str
        Column names to keep as numbers, and to one-hot encode.

    Returns
    -------
    X : ndarray of float64, feature_names : list of str, groups : list of int arrays,
    integer : list of int (numeric columns whose values are all whole)
    """
    blocks, feature_names, groups, integer = [], [], [], []
    for col in numeric:
        v = np.asarray(columns[col], dtype=np.float64)
        if np.all(v == np.round(v)):
            integer.append(len(feature_names))
        blocks.append(v[:, None])
        feature_names.append(col)
    for col in categorical:
        seen, inverse = np.unique(np.asarray(columns[col], dtype=str), return_inverse=True)
        values = sorted(seen.tolist(), key=_natural)
        position = {v: k for k, v in enumerate(values)}
        codes = np.array([position[v] for v in seen.tolist()])[inverse.ravel()]
        onehot = np.zeros((codes.size, len(values)))
        onehot[np.arange(codes.size), codes] = 1.0
        start = len(feature_names)
        groups.append(np.arange(start, start + len(values)))
        feature_names.extend(f"{col}={v}" for v in values)
        blocks.append(onehot)
    X = np.hstack(blocks)
    return X, feature_names, groups, integer


def _target(values, order=None):
    """Integer class codes and class names (sorted, or in the given order)."""
    values = np.asarray(values, dtype=object)
    classes = list(order) if order is not None else sorted(set(values.tolist()), key=_natural)
    unknown = set(values.tolist()) - set(classes)
    if unknown:
        raise ValueError(f"unexpected target values {sorted(unknown)}.")
    index = {c: k for k, c in enumerate(classes)}
    return np.array([index[v] for v in values], dtype=np.int64), np.asarray(classes)


def _bunch(name, X, y, target_names, feature_names, domain, description):
    X = np.ascontiguousarray(X, dtype=np.float64)
    return Bunch(
        X=X,
        y=y,
        domain=domain,
        feature_names=list(feature_names),
        target_names=np.asarray(target_names),
        classes=np.arange(len(target_names)),
        description=description,
        name=name,
    )


def _tabular(name, columns, numeric, categorical, target, description, *, order=None):
    X, feature_names, groups, integer = _encode(columns, numeric, categorical)
    y, target_names = _target(columns[target], order)
    domain = Domain.from_data(
        X, integer=integer, one_hot_groups=groups, feature_names=feature_names
    )
    return _bunch(name, X, y, target_names, feature_names, domain, description)


# ---------------------------------------------------------------------- real sets
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]
ADULT_NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
                 "hours-per-week"]
ADULT_CATEGORICAL = ["workclass", "education", "marital-status", "occupation",
                     "relationship", "race", "sex", "native-country"]


def _adult_columns(data_dir):
    rows = _read_rows("adult.data", data_dir=data_dir, shipped=True, skipinitialspace=True)
    bad = [k for k, r in enumerate(rows) if len(r) != len(ADULT_COLUMNS)]
    if bad:
        raise ValueError(f"adult.data: row {bad[0]} has {len(rows[bad[0]])} fields, not 15.")
    return {c: [r[j] for r in rows] for j, c in enumerate(ADULT_COLUMNS)}


def _load_adult_income(data_dir, random_state):
    cols = _adult_columns(data_dir)
    return _tabular(
        "adult_income", cols, ADULT_NUMERIC, ADULT_CATEGORICAL, "income",
        DESCRIPTIONS["adult_income"],
    )


def _load_adult_race(data_dir, random_state):
    cols = _adult_columns(data_dir)
    cats = [c for c in ADULT_CATEGORICAL if c != "race"] + ["income"]
    return _tabular(
        "adult_race", cols, ADULT_NUMERIC, cats, "race", DESCRIPTIONS["adult_race"]
    )


GERMAN_COLUMNS = [
    ("checking_status", "cat"), ("duration", "num"), ("credit_history", "cat"),
    ("purpose", "cat"), ("credit_amount", "num"), ("savings", "cat"),
    ("employment_since", "cat"), ("installment_rate", "num"),
    ("personal_status_sex", "cat"), ("other_debtors", "cat"), ("residence_since", "num"),
    ("property", "cat"), ("age", "num"), ("other_installment_plans", "cat"),
    ("housing", "cat"), ("existing_credits", "num"), ("job", "cat"),
    ("people_liable", "num"), ("telephone", "cat"), ("foreign_worker", "cat"),
    ("class", "target"),
]


def _load_german_credit(data_dir, random_state):
    rows = _read_rows("german.data", data_dir=data_dir, shipped=True, delimiter=" ")
    names = [c for c, _ in GERMAN_COLUMNS]
    bad = [k for k, r in enumerate(rows) if len(r) != len(names)]
    if bad:
        raise ValueError(f"german.data: row {bad[0]} has {len(rows[bad[0]])} fields, not 21.")
    cols = {c: [r[j] for r in rows] for j, c in enumerate(names)}
    cols["class"] = ["good" if v == "1" else "bad" for v in cols["class"]]
    return _tabular(
        "german_credit", cols,
        [c for c, k in GERMAN_COLUMNS if k == "num"],
        [c for c, k in GERMAN_COLUMNS if k == "cat"],
        "class", DESCRIPTIONS["german_credit"], order=["good", "bad"],
    )


STEAK_TARGET = "How do you like your steak prepared?"
STEAK_ORDER = ["Rare", "Medium rare", "Medium", "Medium Well", "Well"]


def _complete_rows(header, rows, keep):
    """Columns ``keep`` of the rows that answer every one of them."""
    idx = [header.index(c) for c in keep]
    full = [r for r in rows if len(r) >= len(header) and all(r[j].strip() for j in idx)]
    return {c: [r[j].strip() for r in full] for c, j in zip(keep, idx)}


def _load_steak(data_dir, random_state):
    rows = _read_rows("steak.csv", data_dir=data_dir, shipped=False)
    header, body = rows[0], rows[2:]  # the second line is a sub-header ("Response")
    keep = [c for c in header if c != "RespondentID"]
    cols = _complete_rows(header, body, keep)
    features = [c for c in keep if c != STEAK_TARGET]
    return _tabular("steak", cols, [], features, STEAK_TARGET, DESCRIPTIONS["steak"],
                    order=STEAK_ORDER)


GSS_TARGET = "Happiness level"
GSS_ORDER = ["NOT TOO HAPPY", "PRETTY HAPPY", "VERY HAPPY"]


def _load_gss(data_dir, random_state):
    rows = _read_rows("GSShappiness.csv", data_dir=data_dir, shipped=False)
    header, body = rows[0], rows[1:]
    keep = [c for c in header if c not in ("year", "id")]
    cols = _complete_rows(header, body, keep)
    features = [c for c in keep if c != GSS_TARGET]
    return _tabular("gss", cols, [], features, GSS_TARGET, DESCRIPTIONS["gss"],
                    order=GSS_ORDER)


#: The GSS answers with an open top category, read as their lowest number.
GSS_NUMBERS = {"children": {"EIGHT OR MORE": "8"}, "age": {"89 OR OLDER": "89"}}


def _load_gss_numeric(data_dir, random_state):
    """GSS with ``age`` and ``children`` as whole numbers instead of one-hot groups.

    The same rows as ``gss``; a tree then cuts age and children by thresholds, as a
    tree learner reading the raw file as numbers would.
    """
    rows = _read_rows("GSShappiness.csv", data_dir=data_dir, shipped=False)
    header, body = rows[0], rows[1:]
    keep = [c for c in header if c not in ("year", "id")]
    cols = _complete_rows(header, body, keep)
    for col, spelled in GSS_NUMBERS.items():
        cols[col] = [spelled.get(v, v) for v in cols[col]]
    numeric = list(GSS_NUMBERS)
    categorical = [c for c in keep if c != GSS_TARGET and c not in GSS_NUMBERS]
    return _tabular("gss_numeric", cols, numeric, categorical, GSS_TARGET,
                    DESCRIPTIONS["gss_numeric"], order=GSS_ORDER)


# ---------------------------------------------------------------------- sklearn sets
def _from_sklearn(name, loader, *, integer_bounds=None):
    data = loader()
    X = np.asarray(data.data, dtype=np.float64)
    if integer_bounds is not None:
        lo, hi = integer_bounds
        d = X.shape[1]
        domain = Domain(np.full(d, lo), np.full(d, hi), integer=np.arange(d),
                        feature_names=[str(f) for f in data.feature_names])
    else:
        domain = Domain.from_data(X, feature_names=[str(f) for f in data.feature_names])
    return _bunch(name, X, np.asarray(data.target, dtype=np.int64), data.target_names,
                  [str(f) for f in data.feature_names], domain, DESCRIPTIONS[name])


def _load_iris(data_dir, random_state):
    from sklearn.datasets import load_iris

    return _from_sklearn("iris", load_iris)


def _load_digits(data_dir, random_state):
    from sklearn.datasets import load_digits

    # 8x8 images with 17 grey levels: the published domain is {0, ..., 16}^64.
    return _from_sklearn("digits", load_digits, integer_bounds=(0, 16))


def _load_breast_cancer(data_dir, random_state):
    from sklearn.datasets import load_breast_cancer

    return _from_sklearn("breast_cancer", load_breast_cancer)


def _load_wine(data_dir, random_state):
    from sklearn.datasets import load_wine

    return _from_sklearn("wine", load_wine)


# ---------------------------------------------------------------------- synthetic
def _synthetic(name, X, y):
    X = np.asarray(X, dtype=np.float64)
    names = [f"x{j}" for j in range(X.shape[1])]
    k = int(np.max(y)) + 1
    return _bunch(name, X, np.asarray(y, dtype=np.int64), [str(c) for c in range(k)],
                  names, Domain.from_data(X, feature_names=names), DESCRIPTIONS[name])


def _seed(random_state):
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return random_state
    raise ValueError(f"random_state must be an int or None; got {random_state!r}.")


def _load_circles(data_dir, random_state):
    from sklearn.datasets import make_circles

    X, y = make_circles(5000, factor=0.5, noise=0.05, random_state=_seed(random_state))
    return _synthetic("circles", X, y)


def _load_moons(data_dir, random_state):
    from sklearn.datasets import make_moons

    X, y = make_moons(5000, noise=0.25, random_state=_seed(random_state))
    return _synthetic("moons", X, y)


def _load_blobs(data_dir, random_state):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(5000, n_features=2, centers=3, cluster_std=0.5,
                      random_state=_seed(random_state))
    return _synthetic("blobs", X, y)


def _load_five_class(data_dir, random_state):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=1000, n_features=20, n_informative=4,
                               n_classes=5, random_state=_seed(random_state))
    return _synthetic("five_class", X, y)


# ---------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Entry:
    loader: Callable
    shape: tuple[int, int]
    n_classes: int
    description: str


_ENTRIES = {
    "iris": _Entry(_load_iris, (150, 4), 3, "scikit-learn's iris (Fisher 1936)"),
    "digits": _Entry(_load_digits, (1797, 64), 10,
                     "scikit-learn's digits (UCI optdigits test set), 8x8 grey levels 0-16"),
    "breast_cancer": _Entry(
        _load_breast_cancer, (569, 30), 2,
        "scikit-learn's breast_cancer (UCI Wisconsin diagnostic; the paper used the "
        "683 x 10 original set)",
    ),
    "wine": _Entry(_load_wine, (178, 13), 3, "scikit-learn's wine (UCI)"),
    "circles": _Entry(_load_circles, (5000, 2), 2,
                      "synthetic make_circles(5000, factor=0.5, noise=0.05), seeded"),
    "moons": _Entry(_load_moons, (5000, 2), 2,
                    "synthetic make_moons(5000, noise=0.25), seeded"),
    "blobs": _Entry(_load_blobs, (5000, 2), 3,
                    "synthetic make_blobs(5000, centers=3, cluster_std=0.5), seeded"),
    "five_class": _Entry(
        _load_five_class, (1000, 20), 5,
        "synthetic make_classification(1000, n_features=20, n_informative=4, "
        "n_classes=5), seeded",
    ),
    "adult_income": _Entry(
        _load_adult_income, (32561, 108), 2,
        "UCI Adult adult.data (shipped), target income; 6 numeric + one-hot of 8 "
        "categoricals, '?' its own category",
    ),
    "adult_race": _Entry(
        _load_adult_race, (32561, 105), 5,
        "UCI Adult adult.data (shipped), target race; 6 numeric + one-hot of 7 "
        "categoricals and income",
    ),
    "german_credit": _Entry(
        _load_german_credit, (1000, 61), 2,
        "UCI Statlog German Credit german.data (shipped), target good/bad; 7 numeric + "
        "one-hot of 13 coded categoricals",
    ),
    "steak": _Entry(
        _load_steak, (331, 40), 5,
        "FiveThirtyEight steak survey steak.csv (not shipped: data_dir), target "
        "steak doneness; complete rows, every answer one-hot",
    ),
    "gss": _Entry(
        _load_gss, (16127, 101), 3,
        "General Social Survey GSShappiness.csv (not shipped: data_dir), target "
        "happiness level; complete rows, year and id dropped, every answer one-hot",
    ),
    "gss_numeric": _Entry(
        _load_gss_numeric, (16127, 22), 3,
        "The gss rows with age and children as whole numbers (89 OR OLDER read as 89, "
        "EIGHT OR MORE as 8), the other answers one-hot",
    ),
}

#: Other spellings accepted by :func:`load`.
ALIASES = {"5class": "five_class", "5-class": "five_class", "class5": "five_class",
           "adult": "adult_income", "german": "german_credit", "cancer": "breast_cancer"}


def _describe_entry(e: _Entry) -> str:
    n, d = e.shape
    return f"{e.description}: {n:,} rows x {d} features, {e.n_classes} classes"


DESCRIPTIONS = {name: _describe_entry(e) for name, e in _ENTRIES.items()}


def available() -> list[str]:
    """Names of the data sets :func:`load` knows, sorted."""
    return sorted(_ENTRIES)


def _entry(name: str) -> tuple[str, _Entry]:
    key = ALIASES.get(name, name)
    if key not in _ENTRIES:
        raise ValueError(f"unknown data set {name!r}; available: {', '.join(available())}.")
    return key, _ENTRIES[key]


def describe(name: str) -> str:
    """One line: the source and the shape after encoding (no file is read).

    Examples
    --------
    >>> describe("steak")  # doctest: +ELLIPSIS
    'FiveThirtyEight steak survey ...: 331 rows x 40 features, 5 classes'
    """
    return DESCRIPTIONS[_entry(name)[0]]


def load(name: str, *, data_dir=None, random_state=0) -> Bunch:
    """Load a data set, encoded as Tramèr et al. (2016) did.

    Parameters
    ----------
    name : str
        One of :func:`available` (``"5class"``, ``"adult"`` and ``"german"`` are
        accepted as aliases).
    data_dir : str or Path, default=None
        Folder holding the files mlextract does not ship (``steak.csv``,
        ``GSShappiness.csv``); default ``$MLEXTRACT_DATA_DIR``. Shipped sets are
        also looked up here when the repository's ``datasets/`` folder is absent.
    random_state : int or None, default=0
        Seed of the synthetic sets (the others ignore it).

    Returns
    -------
    Bunch
        ``X`` (n, d) float64; ``y`` (n,) int class codes; ``target_names`` and
        ``classes`` (the codes); ``feature_names``; ``domain`` (bounds from the
        data, integer numeric features, one one-hot group per categorical column);
        ``description``; ``name``.

    Raises
    ------
    DataAbsent
        If the file is on neither path (a :class:`FileNotFoundError`).
    ValueError
        If ``name`` is unknown or a file is malformed.

    Examples
    --------
    >>> data = load("iris")
    >>> data.X.shape, data.target_names.tolist()
    ((150, 4), ['setosa', 'versicolor', 'virginica'])
    """
    key, entry = _entry(name)
    data = entry.loader(data_dir, random_state)
    if data.X.shape != entry.shape:  # the documented shape is a promise
        raise ValueError(
            f"{key}: the file encodes to {data.X.shape}, not the documented "
            f"{entry.shape}; is it the original file?"
        )
    return data
