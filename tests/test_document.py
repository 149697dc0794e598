"""The results document: built once per analysis, the same JSON back and forth, and a damaged analysis.json
refused with one line and exit 7 (never an empty report, never a traceback)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from balance.cli.main import main
from balance.errors import ResultsError
from balance.pipeline import Analysis
from balance.results import document
from balance.results.codec import SchemaError
from balance.results.document import Document, build_document, from_json, json_text, load_document

from .conftest import SAMPLES, analysed

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"


@pytest.fixture(scope="module")
def doc() -> Document:
    analysis = analysed(POSE_1)
    if not isinstance(analysis, Analysis):
        pytest.fail(f"{POSE_1.name} should analyse: {analysis}")
    return build_document(analysis)


@pytest.fixture(scope="module")
def data(doc: Document) -> dict[str, Any]:
    return json.loads(json_text(doc.to_json()))


def test_the_document_round_trips_through_its_json(doc: Document, data: dict[str, Any]) -> None:
    again = from_json(data)
    assert again == doc
    assert json_text(again.to_json()) == json_text(doc.to_json())
    assert doc.trials[0].score.value == data["trials"][0]["score"]["value"]
    assert isinstance(doc.trials[0].flags, tuple) and isinstance(doc.trials[0].tripod.medial_sd_total, float)


def test_a_field_the_types_do_not_carry(data: dict[str, Any]) -> None:
    newer = copy.deepcopy(data)
    # A flag as the tool writes one (the clip itself raises none), plus a field a later version might add.
    flag = {"code": "touch_down", "text": "The free foot touched down.", "value": 3.0, "threshold": None, "unit": "s"}
    flag |= {"source": "BESS", "times": [[3.0, 3.0]], "bess_error": True}
    newer["trials"][0]["flags"].append({**flag, "confidence": 0.9})
    # Building a document: every field the analysis emits must be in the schema.
    with pytest.raises(SchemaError, match=r"trials\[0\]\.flags\[\d+\]: Flag has no field for 'confidence'"):
        from_json(newer, strict=True)
    # Loading a saved one: a later 1.x may add fields; they are ignored.
    assert from_json(newer).trials[0].flags[-1].code == "touch_down"


def _damaged(data: dict[str, Any], change: str) -> dict[str, Any]:
    bad = copy.deepcopy(data)
    if change == "no trials":
        del bad["trials"]
    elif change == "trials abc":
        bad["trials"] = "abc"
    elif change == "notes 5":
        bad["notes"] = 5
    elif change == "metrics []":
        bad["trials"][0]["metrics"] = []
    elif change == "trial null":
        bad["trials"][0] = None
    elif change == "score text":
        bad["trials"][0]["score"]["value"] = "82"
    elif change == "rms empty":
        bad["trials"][0]["metrics"]["observed"]["centre_of_mass"]["rms"] = []
    elif change == "newer schema":
        bad["schema_version"] = "2.0"
    return bad


CASES = {
    "no trials": "trials: missing",
    "trials abc": "trials: expected a list, got the string 'abc'",
    "notes 5": "notes: expected a list, got the number 5",
    "metrics []": "trials[0].metrics: expected an object, got a list",
    "trial null": "trials[0]: expected an object, got null",
    "score text": "trials[0].score.value: expected a finite number, got the string '82'",
    "rms empty": "centre_of_mass: rms and range need one value per axis",
    "newer schema": "schema_version: 2.0 is not 1.x",
}


@pytest.mark.parametrize("change", list(CASES))
def test_balance_report_refuses_a_damaged_analysis(
    change: str, data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(_damaged(data, change)))
    assert main(["report", str(path)]) == 7
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and not out
    assert lines[0].startswith(f"balance: {path} is not a valid analysis.json (")
    assert CASES[change] in lines[0] and "Analyse the clip again" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis.json"]  # no report


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"{not json", "not JSON"), (b"", "not JSON"), (b"[1, 2]", "expected an object, got a list")],
)
def test_load_refuses_what_is_not_an_analysis(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "analysis.json"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match="not a valid analysis.json") as info:
        load_document(path)
    assert words in str(info.value) and info.value.exit_code == 7
    with pytest.raises(ResultsError, match="no saved analysis"):
        load_document(tmp_path / "missing.json")
    with pytest.raises(ResultsError, match="is a folder"):
        load_document(tmp_path)


def test_analyze_builds_and_serialises_the_document_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = {"build": 0, "to_json": 0}
    plain, to_json = document._plain, Document.to_json

    def counted_plain(analysis: Analysis) -> dict[str, Any]:
        calls["build"] += 1
        return plain(analysis)

    def counted_to_json(self: Document) -> dict[str, Any]:
        calls["to_json"] += 1
        return to_json(self)

    monkeypatch.setattr(document, "_plain", counted_plain)
    monkeypatch.setattr(Document, "to_json", counted_to_json)
    args = ["analyze", str(POSE_1), "--out", str(tmp_path), "--quiet", "--no-video", "--json"]
    assert main([*args, "--name", "Sam", "--db", str(tmp_path / "h.db")]) == 0
    assert calls == {"build": 1, "to_json": 1}
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "analysis.json").read_text())
