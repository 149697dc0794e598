"""analysis.json's JSON Schema: the shipped file is what the document's types give, and every document the
pipeline produces from the licensed clips (served by the committed landmarks) validates against it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from balance.errors import BalanceError
from balance.pipeline import analyze_pair
from balance.results.document import build_document, json_text
from balance.results.schema import SCHEMA_FILE, json_schema, main, shipped_schema

from .conftest import ROOT, SAMPLES, analysed

CLIPS = sorted(p for p in SAMPLES.rglob("*.mp4"))
POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"


def validator() -> jsonschema.protocols.Validator:
    schema = shipped_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # the file is itself a valid 2020-12 schema
    return cls(schema)


def test_the_shipped_schema_is_the_one_the_types_give() -> None:
    assert shipped_schema() == json_schema(), "run: python -m balance.results.schema"
    assert main(["--check"]) == 0
    assert SCHEMA_FILE.parent == ROOT / "src" / "balance" / "results"


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_produced_document_validates(clip: Path) -> None:
    result = analysed(clip)
    if isinstance(result, BalanceError):
        pytest.skip(f"no document: the analysis refuses the clip ({result.what})")
    doc = json.loads(json_text(build_document(result).to_json()))  # as written to analysis.json
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_a_document_in_cm_validates() -> None:
    result = analysed(POSE_1, height_cm=170.0)
    assert not isinstance(result, BalanceError)
    doc = build_document(result).to_json()
    assert doc["trials"][0]["metrics"]["unit"] == "cm"
    validator().validate(doc)


def test_a_two_camera_document_validates() -> None:
    """The Pose2Sim lab trial from two of its cameras (1.7 s: scored with a 1 s minimum), fused into both axes."""
    pair = analyze_pair(
        SAMPLES / "sls_pose2sim_balancing_cam04.mp4", SAMPLES / "sls_pose2sim_balancing_cam03.mp4", min_trial_s=1.0
    )
    doc = build_document(pair).to_json()
    assert doc["two_view"] is not None and doc["two_view"]["trials"]
    validator().validate(doc)


def test_the_schema_refuses_what_the_codec_refuses() -> None:
    result = analysed(POSE_1)
    assert not isinstance(result, BalanceError)
    good = build_document(result).to_json()
    check = validator()
    check.validate(good)

    def broken(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
        doc = copy.deepcopy(good)
        change(doc)
        return doc

    cases = {
        "a missing required field": broken(lambda d: d["clip"].pop("sha256")),
        "an unknown key": broken(lambda d: d["trials"][0].update(surprise=1)),
        "a string for a number": broken(lambda d: d["trials"][0]["score"].update(value="high")),
        "a number for a whole number": broken(lambda d: d["clip"].update(width=576.5)),
        "a pair with three values": broken(
            lambda d: d["trials"][0]["tripod"]["tripod_points"].update(big_toe=[0, 0, 1])
        ),
        "null where none is allowed": broken(lambda d: d["trials"][0].update(hold_s=None)),
    }
    for what, doc in cases.items():
        assert not check.is_valid(doc), f"the schema accepts {what}"
    # An optional field (added in a later 1.x version) may be absent, as the codec reads it.
    older = broken(lambda d: d["trials"][0]["metrics"].pop("camera_roll"))
    assert check.is_valid(older)
