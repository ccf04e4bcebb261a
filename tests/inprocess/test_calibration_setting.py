"""MEM0_SCORE_CALIBRATION round-trips what `mem0-service calibrate` prints, in both of its forms."""

from __future__ import annotations

import pytest

from mem0_service.embedders.base import Calibration
from mem0_service.embedders.local import LocalEmbedder


def test_the_bundled_calibration_prints_as_a_setting_that_parses_back_to_itself():
    printed = str(LocalEmbedder.calibration)
    assert len(printed.split(",")) == 7
    assert Calibration.parse(printed) == LocalEmbedder.calibration


def test_three_numbers_calibrate_raw_cosines():
    calibration = Calibration.parse("0.1,0.3,0.6")
    assert calibration.query_weight == 0.0 and str(calibration) == "0.1,0.3,0.6"
    assert float(calibration.score(0.3)) == pytest.approx(0.7)


@pytest.mark.parametrize("text", ["0.1,0.3", "0.1,0.3,0.6,2", "a,b,c", "0.5,0.3,0.6", "0.1,0.3,0.6,2,0.2,0.1,0.3"])
def test_malformed_settings_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="MEM0_SCORE_CALIBRATION|anchors"):
        Calibration.parse(text)
