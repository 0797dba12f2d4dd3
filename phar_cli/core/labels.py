"""Label maps: a text file, one label a line; '-' and '_' spellings are the same label."""
from __future__ import annotations

from pathlib import Path

from phar_cli.errors import LabelMapError
from phar_cli.models.registry import config_dir

LABEL_DIR = config_dir() / "labels"  # the shipped label maps
DEFAULT_LABEL_FILES = {
    "rgb": LABEL_DIR / "annotations.txt",
    "skeleton": LABEL_DIR / "annotations_pose.txt",
    "audio": LABEL_DIR / "annotations_audio.txt",
}


def canonical(label: str) -> str:
    """The spelling used inside phar: stripped, lower case, '_' written as '-'."""
    return label.strip().lower().replace("_", "-")


def read_label_map(path: str | Path) -> list[str]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as ex:
        raise LabelMapError(f"{path}: cannot read label map ({ex.strerror or ex})") from ex
    labels = [canonical(line) for line in text.splitlines() if line.strip()]
    if not labels:
        raise LabelMapError(f"{path}: label map is empty")
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        raise LabelMapError(f"{path}: label map repeats {', '.join(dupes)}")
    return labels
