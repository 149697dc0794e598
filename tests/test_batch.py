"""`balance batch` on real Dask clusters: a `dask scheduler` with two `dask worker` processes on 127.0.0.1
(tests/servers.py) and a LocalCluster. Per clip the same analysis JSON as `balance analyze` (tool version
aside); a non-video and a damaged clip are named in the summary and don't stop the batch; a worker SIGKILLed
in the middle of a clip loses nothing and writes nothing twice; a rerun skips everything; manifest names go
into the history.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from balance.cli.main import _parser, cmd_analyze
from balance.history.store import Store

from .conftest import ROOT, SAMPLES
from .servers import dask_cluster

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
PHONE = ROOT / "tests" / "data" / "phone_portrait_pose_1.mp4"  # the same scene, another encoding: another hash
CAM01 = SAMPLES / "sls_pose2sim_balancing_cam01.mp4"  # 1.7 s: too short to score (exit 5)
CAM02 = SAMPLES / "sls_pose2sim_balancing_cam02.mp4"


def cli(*argv: str | Path) -> int:
    """A `balance` command in this process, as main() runs it (minus its stderr redirection)."""
    args = _parser().parse_args([str(a) for a in argv])
    return int(getattr(args, "handler", cmd_analyze)(args))


def worker_env() -> dict[str, str]:
    """The workers import this checkout and share the session's pose cache (set by conftest)."""
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": src if not path else f"{src}{os.pathsep}{path}"}


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory, pose_cache: Path) -> Iterator[str]:
    with dask_cluster(2, tmp_path_factory.mktemp("dask"), worker_env()) as (address, _):
        yield address


def summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "batch-summary.csv").open() as fh:
        return {Path(row["clip"]).relative_to(out.parent / "in").as_posix(): row for row in csv.DictReader(fh)}


def without_version(document: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(document))
    doc["tool"].pop("version")
    return doc


def analyze_json(clip: Path, out: Path, *extra: str) -> dict[str, Any]:
    assert cli("analyze", clip, "--out", out, "--no-video", "--quiet", *extra) == 0
    return json.loads((out / "analysis.json").read_text())


def no_temporary_files(out: Path) -> None:
    assert not [p for p in out.rglob(".*")], "temporary files or folders left behind"


def test_inputs_folders_manifests_and_their_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from balance.batch import inputs
    from balance.errors import UsageError

    folder = tmp_path / "in"
    (folder / "b" / ".hidden").mkdir(parents=True)
    (folder / "out").mkdir()
    for name in ("a.MP4", "b/c.mov", "b/.hidden/x.mp4", "b/readme.md", "out/old.mp4", ".partial.mp4"):
        (folder / name).write_bytes(b"x")
    manifest = tmp_path / "m.csv"
    manifest.write_text("\ufeffclip, name ,week,height_cm\nin/a.MP4,Sam,2,172\n/abs/clip.mp4,,,\n,,,\n")
    jobs, skipped = inputs.expand([folder, manifest], folder / "out")
    assert [j.path.relative_to(tmp_path).as_posix() for j in jobs[:2]] == ["in/a.MP4", "in/b/c.mov"]
    assert jobs[2] == inputs.ClipJob(tmp_path / "in" / "a.MP4", "Sam", 2, 172.0)
    assert jobs[3] == inputs.ClipJob(Path("/abs/clip.mp4"))
    assert len(jobs) == 4  # hidden files, the output folder and blank manifest rows are not inputs
    assert [(s.path.name, s.reason) for s in skipped] == [("readme.md", "not a video file by its name (.md)")]
    for text, words in (
        ("file,name\na.mp4,Sam\n", "has no 'clip' column"),
        ("clip,week\na.mp4,x\n", "line 2: invalid literal"),
        ("clip,week\na.mp4,53\n", "line 2: week 53 is outside 1-52"),
        ("clip,height_cm\na.mp4,12\n", "12 cm is not a plausible standing height"),
    ):
        manifest.write_text(text)
        with pytest.raises(UsageError, match=words):
            inputs.read_manifest(manifest)
    manifest.write_text("clip,week\na.mp4,53\n")
    out = tmp_path / "never"
    with pytest.raises(UsageError, match="week 53"):
        cli("batch", manifest, "--out", out)
    assert not out.exists()  # nothing ran, nothing was written


@pytest.mark.slow
def test_a_folder_on_a_scheduler_with_two_workers(
    tmp_path: Path, scheduler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(POSE_1, folder / "pose.mp4")
    shutil.copy(PHONE, folder / "sub" / "pose.mp4")  # same stem, another clip: must not collide
    shutil.copy(CAM01, folder / "short.mp4")
    (folder / "notes.txt").write_text("not a clip")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    out = tmp_path / "out"

    assert cli("batch", folder, "--out", out, "--scheduler", scheduler, "--quiet") == 9  # some failed
    printed = capsys.readouterr()
    assert "2 analysed, 1 skipped, 2 failed" in printed.out
    rows = summary(out)
    assert set(rows) == {"pose.mp4", "sub/pose.mp4", "short.mp4", "notes.txt", "broken.mp4"}
    assert (rows["notes.txt"]["status"], rows["notes.txt"]["reason"]) == (
        "skipped",
        "not a video file by its name (.txt)",
    )
    assert (rows["broken.mp4"]["status"], rows["broken.mp4"]["error"], rows["broken.mp4"]["exit_code"]) == (
        "failed",
        "VideoError",
        "3",
    )
    assert (rows["short.mp4"]["status"], rows["short.mp4"]["error"], rows["short.mp4"]["exit_code"]) == (
        "failed",
        "StanceError",
        "5",
    )
    assert "shorter than the 3 s minimum" in rows["short.mp4"]["reason"]
    assert "broken.mp4" in printed.err and "short.mp4" in printed.err
    workers = set()
    for clip in ("pose.mp4", "sub/pose.mp4"):
        row = rows[clip]
        assert row["status"] == "ok" and row["legs"] == "left" and float(row["holds_s"]) > 3
        assert 0 <= float(row["scores"]) <= 100
        assert row["out"] == f"pose-{row['sha256'][:10]}"
        workers.add(row["worker"])
        batch_doc = json.loads((out / row["out"] / "analysis.json").read_text())
        reference = analyze_json(folder / clip, tmp_path / "analyze" / clip)
        assert without_version(batch_doc) == without_version(reference)
        assert (out / row["out"] / "report.html").is_file() and (out / row["out"] / "frames.csv").is_file()
    assert len({rows["pose.mp4"]["out"], rows["sub/pose.mp4"]["out"]}) == 2
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(
        [rows["pose.mp4"]["out"], rows["sub/pose.mp4"]["out"]]
    )  # failures leave no folder
    document = json.loads((out / "batch-summary.json").read_text())
    assert document["counts"] == {"ok": 2, "skipped": 1, "failed": 2}
    no_temporary_files(out)


@pytest.mark.slow
def test_a_worker_killed_mid_clip_loses_nothing(tmp_path: Path, pose_cache: Path) -> None:
    from distributed import Client

    from balance.batch import inputs, runner
    from balance.pipeline import AnalysisOptions

    folder = tmp_path / "in"
    folder.mkdir()
    for clip in (POSE_1, PHONE, CAM01, CAM02):
        shutil.copy(clip, folder / clip.name)
    out = tmp_path / "out"
    out.mkdir()
    jobs, _ = inputs.expand([folder], out)
    todo, done, unreadable = runner.plan(jobs, out, AnalysisOptions())
    assert len(todo) == 4 and not done and not unreadable

    with dask_cluster(2, tmp_path / "dask", worker_env()) as (address, procs), Client(address) as watcher:
        watcher.wait_for_workers(2, timeout=60)
        pid_of = watcher.run(os.getpid)
        results: list[runner.ClipResult] = []
        history = runner.History(None, None, None)

        def batch() -> None:
            with runner.connect(address, None) as client:
                results.extend(runner.run(client, todo, out, video=False, history=history))

        thread = threading.Thread(target=batch)
        thread.start()
        killed: tuple[str, tuple[str, ...]] | None = None
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline:
            busy = {w: keys for w, keys in watcher.processing().items() if keys}
            if busy:
                worker, keys = next(iter(busy.items()))
                time.sleep(0.5)  # well inside the clip's analysis (several seconds)
                os.kill(pid_of[worker], signal.SIGKILL)
                killed = (worker, tuple(keys))
            time.sleep(0.05)
        thread.join(timeout=300)
        assert not thread.is_alive()
        assert killed is not None, "no task was ever seen running"
        assert sum(p.poll() is not None for p in procs) == 1  # one worker is really gone
        assert len(watcher.scheduler_info()["workers"]) == 1

    worker, keys = killed
    rerun = [r for r in results if any(r.sha256[:16] in key for key in keys)]
    assert rerun and all(r.worker.rsplit(":", 1)[1] != str(pid_of[worker]) for r in rerun)  # finished elsewhere
    by_clip = {Path(r.clip).name: r for r in results}
    assert sorted(by_clip) == sorted(c.name for c in (POSE_1, PHONE, CAM01, CAM02))  # every clip has its row
    assert [by_clip[c.name].status for c in (POSE_1, PHONE, CAM01, CAM02)] == ["ok", "ok", "failed", "failed"]
    assert {by_clip[c.name].error for c in (CAM01, CAM02)} == {"StanceError"}  # not a worker crash: retried
    folders = sorted(p.name for p in out.iterdir())
    assert folders == sorted(by_clip[c.name].out for c in (POSE_1, PHONE))  # each written once, no partials
    for name in folders:
        marker = json.loads((out / name / "batch.json").read_text())
        assert name.endswith(marker["clip_sha256"][:10])
        assert json.loads((out / name / "analysis.json").read_text())["clip"]["sha256"] == marker["clip_sha256"]


@pytest.mark.slow
def test_manifest_on_a_local_cluster_saves_to_the_history_and_a_rerun_skips_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    (folder / "clips").mkdir(parents=True)
    shutil.copy(POSE_1, folder / "clips" / "sam.mp4")
    shutil.copy(PHONE, folder / "clips" / "alex.mp4")
    manifest = folder / "manifest.csv"
    manifest.write_text("clip,name,week,height_cm\nclips/sam.mp4,Sam,1,\nclips/alex.mp4,Alex,2,170\n")
    out, db = tmp_path / "out", tmp_path / "history.db"

    assert cli("batch", manifest, "--out", out, "--workers", "2", "--db", db, "--quiet") == 0
    rows = summary(out)
    assert {k: r["status"] for k, r in rows.items()} == {"clips/sam.mp4": "ok", "clips/alex.mp4": "ok"}
    assert rows["clips/sam.mp4"]["history"] == "saved to Sam's history (1 trial)"
    batch_doc = json.loads((out / rows["clips/sam.mp4"]["out"] / "analysis.json").read_text())
    assert without_version(batch_doc) == without_version(analyze_json(folder / "clips" / "sam.mp4", tmp_path / "a"))
    alex = json.loads((out / rows["clips/alex.mp4"]["out"] / "analysis.json").read_text())
    assert alex["trials"][0]["metrics"]["unit"] == "cm"  # the manifest's height was used
    with Store(db) as store:
        [sam] = store.trials("Sam")
        [alex_trial] = store.trials("alex")
    assert (sam.week, alex_trial.week) == (1, 2)
    assert sam.clip_sha256 == rows["clips/sam.mp4"]["sha256"]
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.parent != out}
    capsys.readouterr()

    assert cli("batch", manifest, "--out", out, "--workers", "2", "--db", db, "--quiet") == 0
    printed = capsys.readouterr().out
    assert "2 clip(s) already analysed with this balance version and these options: skipped" in printed
    assert "0 analysed, 2 skipped, 0 failed" in printed
    rows = summary(out)
    assert {r["status"] for r in rows.values()} == {"skipped"}
    assert rows["clips/sam.mp4"]["scores"] == str(batch_doc["trials"][0]["score"]["value"])
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.parent != out} == before  # nothing rewritten
    with Store(db) as store:
        assert len(store.trials("Sam")) == 1
    no_temporary_files(out)


def test_manifest_columns_for_the_test_conditions_and_age(tmp_path: Path) -> None:
    from datetime import date

    from balance.batch import inputs
    from balance.errors import UsageError
    from balance.history.model import Conditions

    manifest = tmp_path / "m.csv"
    manifest.write_text("clip,name,eyes,surface,age\na.mp4,Sam,Closed,Bosu ball,52\nb.mp4,Sam,,,\n")
    first, second = inputs.read_manifest(manifest)
    assert (first.conditions, first.birth_year) == (Conditions("closed", "bosu"), date.today().year - 52)
    assert (second.conditions, second.birth_year) == (Conditions(), None)
    for text, words in (
        ("clip,eyes\na.mp4,shut\n", "line 2: eyes must be open or closed, not 'shut'"),
        ("clip,surface\na.mp4,sand\n", "line 2: the surface 'sand' is none of floor, foam, disc, bosu"),
        ("clip,age\na.mp4,fifty\n", "line 2: invalid literal"),
        ("clip,age\na.mp4,200\n", "line 2: age 200 is outside 1-120"),
    ):
        manifest.write_text(text)
        with pytest.raises(UsageError, match=words):
            inputs.read_manifest(manifest)
