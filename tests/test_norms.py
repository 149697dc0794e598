"""balance.assess.norms: the age reference table as published, its words, and no reference where none exists."""

from __future__ import annotations

import pytest

from balance.assess.norms import (
    CEILING_S,
    HOLD_MDC_S,
    HOLD_SEM_S,
    SPRINGER_2007,
    age_in,
    band_for,
    hold_mdc_words,
    hold_reference,
    hold_words,
    published_hold_mdc,
)


def test_the_bands_cover_every_adult_age_once_and_fall_with_age() -> None:
    for age in range(18, 110):
        assert sum(b.holds(age) for b in SPRINGER_2007) == 1, age
    assert band_for(17) is None
    assert [b.label for b in SPRINGER_2007] == ["18-39", "40-49", "50-59", "60-69", "70-79", "80+"]
    open_all = [b.open_all for b in SPRINGER_2007]
    assert open_all == sorted(open_all, reverse=True)
    # The checked values, as the docstring lists them with their sources.
    assert open_all == [44.7, 41.9, 41.2, 32.1, 21.5, 9.4]
    assert [(b.closed_women, b.closed_men) for b in SPRINGER_2007][2] == (7.9, 8.6)


def test_womens_eyes_open_values_cross_check_the_totals() -> None:
    """Where women and men agree (18-59) the women's mean lies within 0.5 s of the total; where men held
    longer (60-79) it lies below, as a mean over both sexes requires."""
    for b in SPRINGER_2007:
        if b.open_women is None:
            continue
        if b.hi is not None and b.hi < 60:
            assert abs(b.open_women - b.open_all) <= 0.5, b
        else:
            assert b.open_women < b.open_all, b


def test_the_issue_s_two_examples() -> None:
    ceiling = hold_reference(45.0, age=30, eyes="open", surface="floor", ended_by="clip_end")
    assert ceiling.verdict == "ceiling"
    assert ceiling.words.startswith("45.0 s (held to the end of the test): at the ceiling of the test for 18-39")
    below = hold_reference(21.0, age=52, eyes="open", surface="floor")
    assert below.verdict == "below"
    assert below.words == "21.0 s: below the average for 50-59 (41.2 s)"
    assert below.source is not None and "Springer" in below.source


def test_eyes_closed_shows_women_and_men_side_by_side() -> None:
    r = hold_reference(8.2, age=55, eyes="closed", surface="floor")
    assert r.verdict == "between"
    assert r.averages == (("women", 7.9), ("men", 8.6))
    assert "women 7.9 s, men 8.6 s" in r.words and "eyes closed" in r.words
    assert hold_reference(20.0, age=55, eyes="closed", surface="floor").verdict == "above"
    assert hold_reference(2.0, age=55, eyes="closed", surface="floor").verdict == "below"


@pytest.mark.parametrize("surface", ["foam", "disc", "bosu"])
def test_no_reference_is_invented_for_soft_surfaces(surface: str) -> None:
    r = hold_reference(20.0, age=52, eyes="open", surface=surface)
    assert r.verdict == "none" and r.band is None and r.averages == ()
    assert "no published age reference" in r.words


def test_missing_age_eyes_or_a_child_get_no_reference() -> None:
    assert "no age given" in hold_reference(20.0, age=None, eyes="open", surface="floor").words
    assert "not recorded" in hold_reference(20.0, age=40, eyes="", surface="floor").words
    assert "18 and over" in hold_reference(20.0, age=12, eyes="open", surface="floor").words


def test_an_unrecorded_surface_says_the_reference_is_for_a_floor() -> None:
    r = hold_reference(30.0, age=65, eyes="open", surface="")
    assert r.verdict == "below" and "reference is for a firm floor" in r.words


def test_a_capped_test_is_a_lower_bound_never_a_measured_limit() -> None:
    # A 30 s test held to the end by a 52-year-old: the average (41.2 s) lies beyond the test.
    short = hold_reference(30.0, age=52, eyes="open", surface="floor", ended_by="time_up")
    assert short.verdict == "cannot_tell" and "below" not in short.words
    # The same 30 s for a 75-year-old is at least the average (21.5 s).
    assert hold_reference(30.0, age=75, eyes="open", surface="floor", ended_by="clip_end").verdict == "at_least"
    assert "held to the end of the test" in hold_words(30.0, "clip_end")
    assert "left the picture" in hold_words(12.0, "subject_lost")
    assert hold_words(12.34, "touch_down") == "12.3 s"


def test_the_hold_time_mdc_is_the_published_one_and_says_for_whom() -> None:
    assert (HOLD_SEM_S, HOLD_MDC_S, CEILING_S) == (8.7, 24.1, 45.0)
    # MDC95 = 1.96 x sqrt(2) x SEM (Goldberg et al. 2011 computed it so).
    assert abs(1.96 * 2**0.5 * HOLD_SEM_S - HOLD_MDC_S) < 0.1
    assert published_hold_mdc(70) == 24.1 and published_hold_mdc(35) is None and published_hold_mdc(None) is None
    assert (
        hold_mdc_words(None)
        == "published hold-time MDC: 24.1 s, Goldberg et al. 2011, Gait Posture 33:737, adults 60-89"
    )
    assert hold_mdc_words(35).endswith("; none is published for age 35") and "none" not in hold_mdc_words(70)


def test_age_from_a_birth_year() -> None:
    assert age_in(2026, 1974) == 52
