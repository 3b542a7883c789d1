"""Thresholds that transfer: each index is calibrated on probes made from its own kb (issue 18, item 3)."""

from bot.calibration.calibrate import Calibration, calibrate, thresholds_for
from bot.calibration.tuning import Shares, Utility

__all__ = ["Calibration", "Shares", "Utility", "calibrate", "thresholds_for"]
