"""Fitting a calibration to a labelled set (what `mem0-service calibrate` runs) for a model unlike the bundled one:
multilingual-e5 and its kin put every cosine near 0.8, related pairs a few hundredths above unrelated ones."""

from __future__ import annotations

import numpy as np

from mem0_service.core.calibration_fit import LabelledQuery, evaluate, fit

USER_MEMORIES = 10


def clustered_labelled_set(seed: int = 7, queries: int = 40) -> list[LabelledQuery]:
    """Cosines as such a model gives them; one query in eight has no answer."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(queries):
        cosines = rng.normal(0.78, 0.015, USER_MEMORIES)
        relevant = np.zeros(USER_MEMORIES, dtype=bool)
        if n % 8:
            relevant[n % USER_MEMORIES] = True
            cosines[n % USER_MEMORIES] = rng.normal(0.84, 0.015)
        out.append(LabelledQuery(f"q{n}", cosines, relevant))
    return out


def test_a_model_with_cosines_near_0_8_is_calibrated_to_keep_answers_and_drop_the_rest():
    result = fit(clustered_labelled_set())
    assert result.relevant_pass >= 0.9, result
    assert result.unrelated_pass <= 0.1, result
    # Its anchors sit where that model's cosines are, not near the bundled model's.
    assert 0.7 < result.calibration.unrelated < result.calibration.threshold < result.calibration.related < 0.9


def test_the_fitted_calibration_holds_on_a_set_it_was_not_fitted_on():
    fitted = fit(clustered_labelled_set(seed=7)).calibration
    held_out = evaluate(fitted, clustered_labelled_set(seed=11))
    assert held_out.relevant_pass >= 0.85 and held_out.unrelated_pass <= 0.1, held_out
