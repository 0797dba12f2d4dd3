"""The RGB clip dataset: clips are (video, start frame, end frame) rows, decoded straight from the
source video at training time. No clip files are cut: cutting 44 h of footage into 7 s clips
re-encodes every frame and doubles the disk use, while seeking inside the source costs decord one
keyframe decode per clip. And the audio stream's training-time pitch shift. Registered into
mmaction2's registries on import."""
from __future__ import annotations

import numpy as np

from phar_cli.models.compat import import_openmmlab

import_openmmlab()

from mmaction.datasets.base import BaseActionDataset  # noqa: E402
from mmcv.transforms import BaseTransform  # noqa: E402
from mmaction.datasets.transforms.loading import DecordInit  # noqa: E402
from mmaction.registry import DATASETS, TRANSFORMS  # noqa: E402


@DATASETS.register_module(force=True)
class PharClipDataset(BaseActionDataset):
    """Rows of `video<TAB>start_frame<TAB>end_frame<TAB>label` (label: index in the label map)."""

    def load_data_list(self) -> list[dict]:
        rows = []
        with open(self.ann_file, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                video, start, end, label = line.rstrip("\n").split("\t")
                rows.append(dict(filename=video, clip_start=int(start), clip_end=int(end),
                                 label=int(label)))
        return rows

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info["start_index"] = info["clip_start"]  # SampleFrames adds it to the sampled indices
        return info


@TRANSFORMS.register_module(force=True)
class PharClipDecordInit(DecordInit):
    """DecordInit that keeps the clip's own frame count, so SampleFrames samples inside the clip."""

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        last = min(results["clip_end"], results["total_frames"])
        results["total_frames"] = max(1, last - results["clip_start"])
        return results


@TRANSFORMS.register_module(force=True)
class PharPitchShift(BaseTransform):
    """Each training clip's log-mel bins moved up or down by up to `max_bins` (at random, the
    edge bins repeated into the gap): the same sound a little higher or lower is the same sound.
    A dataset holds a few dozen voices or tones, each at one pitch; without it a model learns
    those pitches' bins, and one a few percent off (a tone of 1200 Hz +3 % is 0.6 of a bin at
    80 mels) reads as neither class."""

    def __init__(self, max_bins: int = 2) -> None:
        self.max_bins = int(max_bins)

    def transform(self, results: dict) -> dict:
        audios = results["audios"]  # (clips, time, mels), after AudioFeatureSelector
        shifted = np.empty_like(audios)
        for k, clip in enumerate(audios):
            shift = np.random.randint(-self.max_bins, self.max_bins + 1)
            index = np.clip(np.arange(clip.shape[-1]) - shift, 0, clip.shape[-1] - 1)
            shifted[k] = clip[..., index]
        results["audios"] = shifted
        return results
