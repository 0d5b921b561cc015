"""DAWN watermarks: consistent marks, a verifier with few false positives."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from mlextract.defenses import LabelOnly, Watermark, verify_watermark
from mlextract.oracles import LocalOracle


def test_watermark_marks_a_keyed_fraction_consistently(owner):
    wm = Watermark(LabelOnly(LocalOracle(owner.model, domain=owner.domain)), key="k", rate=0.01)
    X = owner.domain.sample(20000, random_state=0)
    out = wm.query(X)
    truth = owner.model.predict(X)
    Xm, ym = wm.watermarks_
    assert abs(len(Xm) / 20000 - 0.01) < 3 * np.sqrt(0.01 * 0.99 / 20000)
    assert np.mean(out != truth) == len(Xm) / 20000
    assert np.all(ym != owner.model.predict(Xm))
    np.testing.assert_array_equal(wm.query(Xm), ym)  # the same input, the same mark


def test_verifier_catches_a_memorising_copy_and_not_independent_models(owner):
    wm = Watermark(LabelOnly(LocalOracle(owner.model, domain=owner.domain)), key=1, rate=0.005)
    Xq = owner.domain.sample(40000, random_state=1)
    yq = wm.query(Xq)
    Xm, ym = wm.watermarks_
    ref_X = owner.X_test[:2000]
    ref_y = owner.model.predict(ref_X)
    stolen = KNeighborsClassifier(n_neighbors=1).fit(Xq, yq)
    res = verify_watermark(stolen, Xm, ym, X_reference=ref_X, y_reference=ref_y)
    assert res["stolen"] and res["matches"] == res["n"]
    # Independent models, trained on the owner's distribution but not on the API's
    # answers: the verifier's false-positive rate over 20 of them.
    false_pos = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(owner.X_test), 3000, replace=False)
        indep = (KNeighborsClassifier(n_neighbors=1) if seed % 2 else
                 LogisticRegression(max_iter=500)).fit(owner.X_test[idx], owner.y_test[idx])
        false_pos += verify_watermark(indep, Xm, ym, X_reference=ref_X,
                                      y_reference=ref_y)["stolen"]
    assert false_pos == 0


def test_watermark_bad_input(owner):
    o = LocalOracle(owner.model)
    with pytest.raises(ValueError, match="rate"):
        Watermark(o, key=1, rate=0)
    with pytest.raises(ValueError, match="empty"):
        verify_watermark(owner.model, np.empty((0, 10)), [], X_reference=owner.X_test[:5],
                         y_reference=owner.y_test[:5])
