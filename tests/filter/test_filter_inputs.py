"""Bad input to `phar filter`: one line naming the file, exit 1 (2 for usage), nothing written,
and the input is never overwritten."""
from __future__ import annotations

import pytest

from tests.conftest import run_phar


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def files(tmp_path, scenes, marked):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 10)
    broken = tmp_path / "broken.json"
    broken.write_text("{\"schema\": ")
    other = tmp_path / "other.json"
    from tests.mediacheck import hand_analysis
    from tests.filter.conftest import LABELS

    other.write_bytes(hand_analysis(scenes, 30.0, [("doggy", 0.9)] * 15, 2.0, LABELS).to_json())
    return {"preds": marked("KDKKDK"), "notes": notes, "broken": broken, "other": other,
            "missing": tmp_path / "missing.mp4"}


@pytest.mark.parametrize("case,args,code,says", [
    ("missing video", "{missing} {out} --from-json {preds}", 1, "{missing}: file not found"),
    ("not a video", "{notes} {out} --from-json {preds}", 1, "{notes}: not a video"),
    ("broken json", "{scenes} {out} --from-json {broken}", 1, "{broken}: not valid JSON"),
    ("json of another video", "{scenes} {out} --from-json {other}", 2,
     "{other}: describes a 30.00 s video, but {scenes} is 12.00 s long"),
    ("unknown label", "{scenes} {out} --from-json {preds} --keep dogy", 2,
     "--keep: unknown label dogy"),
    ("bad mode", "{scenes} {out} --from-json {preds} --mode fast", 2, "--mode 'fast'"),
    ("bad snap", "{scenes} {out} --from-json {preds} --snap up", 2, "--snap 'up'"),
    ("negative margin", "{scenes} {out} --from-json {preds} --margin -1", 2,
     "--margin must be >= 0"),
    ("output is the input", "{scenes} {scenes} --from-json {preds}", 2,
     "output would overwrite the input"),
    ("unknown container", "{scenes} {tmp}/out.xyz --from-json {preds}", 2,
     "unknown video container '.xyz'"),
    ("bad segments file", "{scenes} {out} --from-json {preds} --segments-out {tmp}/kept.txt", 2,
     "use a .json, .csv or .edl file"),
    ("segments file is the output", "{scenes} {out} --from-json {preds} --segments-out {out}", 2,
     "--segments-out is the output video"),
    ("bad preset", "{scenes} {out} --from-json {preds} --preset warp", 2, "--preset warp"),
])
def test_bad_input(case, args, code, says, files, scenes, tmp_path, capsys):
    names = {**files, "scenes": scenes, "out": tmp_path / "out.mp4", "tmp": tmp_path}
    before = scenes.read_bytes()
    got, _, err = run_phar(["filter", *args.format(**names).split()], capsys)
    line = one_line(err)
    assert got == code
    assert says.format(**names) in line
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.xyz").exists()
    assert not list(tmp_path.glob(".out*")) and not list(tmp_path.glob(".phar-cut-*"))
    assert scenes.read_bytes() == before
