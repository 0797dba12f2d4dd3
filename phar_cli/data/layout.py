"""The dataset folder `phar prepare-data` writes and `phar train` reads (one contract, one place).

    DATASET/
      dataset.json          manifest: labels, split, counts per class and stream (written last:
                            its presence means the dataset is complete)
      clips.json            every clip: video, start, end (s), label, split
      labels/{rgb,skeleton,audio}.txt
      rgb_{train,val}.tsv   video path, start frame, end frame, label index (PharClipDataset)
      skeleton.pkl          mmaction2 PoseDataset: {'split': {'train','val'}, 'annotations': [...]}
      audio/*.npy           log-mel features per clip; audio_{train,val}.txt (AudioDataset rows)
      poses/*.npz           per-video pose cache (a rerun skips videos already extracted)
      report.png            class distribution chart
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from phar_cli.core.labels import read_label_map
from phar_cli.defaults import STREAMS  # noqa: F401 - part of the layout's contract
from phar_cli.errors import PharError

SCHEMA = "phar.dataset/1"


class DatasetError(PharError):
    """A folder that is not (or not yet) a complete phar dataset."""


@dataclass
class DatasetLayout:
    root: Path
    manifest: dict[str, Any]

    @classmethod
    def at(cls, root: str | Path) -> DatasetLayout:
        """The layout of a dataset being written (no manifest yet)."""
        return cls(Path(root), {})

    @classmethod
    def open(cls, root: str | Path) -> DatasetLayout:
        root = Path(root)
        path = root / "dataset.json"
        if not path.is_file():
            raise DatasetError(f"{root}: not a phar dataset (no dataset.json; make one with "
                               "phar prepare-data)")
        try:
            manifest = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as ex:
            raise DatasetError(f"{path}: not valid JSON ({ex})") from ex
        if manifest.get("schema") != SCHEMA:
            raise DatasetError(f"{path}: unknown dataset schema {manifest.get('schema')!r}")
        return cls(root, manifest)

    @property
    def manifest_path(self) -> Path:
        return self.root / "dataset.json"

    @property
    def clips_path(self) -> Path:
        return self.root / "clips.json"

    def label_path(self, stream: str) -> Path:
        return self.root / "labels" / f"{stream}.txt"

    def labels(self, stream: str) -> list[str]:
        return read_label_map(self.label_path(stream))

    def rgb_list(self, split: str) -> Path:
        return self.root / f"rgb_{split}.tsv"

    @property
    def skeleton_pickle(self) -> Path:
        return self.root / "skeleton.pkl"

    @property
    def audio_dir(self) -> Path:
        return self.root / "audio"

    def audio_list(self, split: str) -> Path:
        return self.root / f"audio_{split}.txt"

    @property
    def poses_dir(self) -> Path:
        return self.root / "poses"

    @property
    def report_png(self) -> Path:
        return self.root / "report.png"

    def clip_counts(self, stream: str) -> tuple[int, int]:
        counts = self.manifest.get("streams", {}).get(stream, {})
        return int(counts.get("train", 0)), int(counts.get("val", 0))

    def clips(self) -> list[dict[str, Any]]:
        return orjson.loads(self.clips_path.read_bytes())
