"""`PharAccMetric`: mmaction2's AccMetric plus the validation NLL, the mean -log(score of the true
class), which ranks validations of equal top-1 (early stopping). Registered on import."""
from __future__ import annotations

import numpy as np

from phar_cli.models.compat import import_openmmlab

import_openmmlab()

from mmaction.evaluation.metrics import AccMetric  # noqa: E402
from mmaction.registry import METRICS  # noqa: E402

MIN_SCORE = 1e-12  # a true class scored 0 costs -log(1e-12), not infinity


@METRICS.register_module(force=True)
class PharAccMetric(AccMetric):
    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics(results)
        pairs = [(r["pred"], r["label"]) for r in results if not isinstance(r["pred"], dict)
                 and np.ndim(r["label"]) == 0]
        if pairs:  # the heads average clips as probabilities (average_clips='prob')
            metrics["nll"] = float(np.mean([-np.log(max(float(p[label]), MIN_SCORE))
                                            for p, label in pairs]))
        return metrics
