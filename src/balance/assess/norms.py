"""Age references for single-leg stance time, and the minimal detectable change of a hold time. Pure values.

The reference is Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance
test with eyes open and closed. J Geriatr Phys Ther 2007;30(1):8-15 (doi:10.1519/00139143-200704000-00003):
549 healthy adults aged 18 and over, six age bands, on a firm floor, arms crossed, the free foot off the floor
next to the stance ankle, eyes open and eyes closed, three trials each of at most 45 s; the tables give the
mean of the three trials and the mean of the best of the three, by sex. Performance fell with age and did
not depend on sex (the abstract's conclusion). This module uses the best-of-three means: a session's best
hold is compared with them.

What could be checked, and where (the paper's own table is behind the publisher's paywall and was not read
here; every number below comes from a secondary source that cites Table 1 of the paper):
- Eyes open, all subjects: 44.7, 41.9, 41.2, 32.1, 21.5, 9.4 s, from a reference engine that states it took
  them from "the primary PDF, Table 1, total eyes-open best-of-three means" (a public repository's
  src/.../reference/balance.ts, SPRINGER_2007_BALANCE_BENCHMARKS). Cross-check: the women's eyes-open values
  45.1, 42.1, 40.9, 30.4, 16.7 s (18-79; a second repository, quoting the reprint in Gibson, Wagner &
  Heyward, Advanced Fitness Assessment and Exercise Prescription, 2019) lie within 0.5 s of the totals where
  women and men agree (18-59) and below them where men held longer (60-79), as a total of both sexes must.
  The paper's 80+ women's value and all the men's eyes-open values were not found: they are not used.
- Eyes closed, women / men: 13.1/16.9, 13.5/12.0, 7.9/8.6, 3.6/5.1, 3.7/2.6, 2.1/1.8 s, quoted identically in
  two files of one public repository (a norms write-up and its code, both citing Springer 2007). No total
  over both sexes was found, so eyes closed shows the women's and the men's means side by side.
- The 45 s ceiling and the best of three: the paper's abstract (Ovid and Semantic Scholar abstract pages)
  and the Slovenian review of the test's procedure by Nezic, Puh & Hlebs (Fizioterapija 2012;20(1):26).
The women's 18-39 eyes-open mean (45.1 s) is above the 45 s ceiling as printed: the paper's timing was to a
tenth of a second, so a hold stopped at the ceiling can read slightly above it. Either way 18-39 is at the
ceiling of this test with the eyes open.

The paper tested a firm floor only: there is no reference here for foam, a stability disc or a Bosu ball,
and none is invented.

The MDC of a hold time: Goldberg A, Casby A, Wasielewski M. Minimum detectable change for single-leg-stance-
time in older adults. Gait Posture 2011;33(4):737-739: 25 community-dwelling adults aged 60-89, repeated
trials, SEM 8.7 s, MDC95 24.1 s (checked against the APTA's summary of the paper, "New in the Literature:
Clinical Balance Measures (Gait Posture. 2011;33:737-739)", which quotes both numbers and the sample).
"""

from __future__ import annotations

from dataclasses import dataclass

from balance.assess.catalogue import HOLD_ENDED

SOURCE = "Springer et al. 2007, J Geriatr Phys Ther 30(1):8-15"
SOURCE_TEST = "best of three trials of up to 45 s, on a firm floor"
CEILING_S = 45.0  # Springer et al. 2007: each trial stopped at 45 s
# Goldberg et al. 2011, Gait Posture 33:737-739, 25 adults aged 60-89: SEM 8.7 s, MDC95 = 1.96 x sqrt(2) x SEM.
HOLD_SEM_S = 8.7
HOLD_MDC_S = 24.1
HOLD_MDC_AGES = (60, 89)
HOLD_MDC_SOURCE = "Goldberg et al. 2011, Gait Posture 33:737, adults aged 60-89"

EYES = ("open", "closed")
# The surfaces the programme uses: the clinical floor test, then foam, a stability disc or a Bosu ball.
SURFACES = ("floor", "foam", "disc", "bosu")
SURFACE_WORDS = {"floor": "a firm floor", "foam": "foam", "disc": "a stability disc", "bosu": "a Bosu ball"}


@dataclass(frozen=True)
class Band:
    """One of Springer et al.'s age bands with its mean best-of-three single-leg stance times, in seconds.

    None: a value the paper has that could not be checked here (see the module's docstring), never guessed.
    """

    lo: int
    hi: int | None  # None: and older
    open_all: float  # eyes open, women and men together
    open_women: float | None  # eyes open, women: the cross-check of open_all
    closed_women: float
    closed_men: float

    @property
    def label(self) -> str:
        return f"{self.lo}+" if self.hi is None else f"{self.lo}-{self.hi}"

    def holds(self, age: int) -> bool:
        return self.lo <= age and (self.hi is None or age <= self.hi)


# Springer et al. 2007, Table 1, mean of the best of three trials (s); sources of each column in the docstring.
SPRINGER_2007 = (
    Band(18, 39, open_all=44.7, open_women=45.1, closed_women=13.1, closed_men=16.9),
    Band(40, 49, open_all=41.9, open_women=42.1, closed_women=13.5, closed_men=12.0),
    Band(50, 59, open_all=41.2, open_women=40.9, closed_women=7.9, closed_men=8.6),
    Band(60, 69, open_all=32.1, open_women=30.4, closed_women=3.6, closed_men=5.1),
    Band(70, 79, open_all=21.5, open_women=16.7, closed_women=3.7, closed_men=2.6),
    Band(80, None, open_all=9.4, open_women=None, closed_women=2.1, closed_men=1.8),
)


@dataclass(frozen=True)
class Reference:
    """A hold time against the age reference, in words; `verdict` for code, `words` for people.

    verdict: below, above, between (women's and men's means differ and the hold lies between them), ceiling
    (at the ceiling of the reference test), at_least (held to the end of the test, at or beyond the mean),
    cannot_tell (held to the end of a test shorter than the mean), none (no reference for these conditions).
    """

    verdict: str
    band: str | None
    averages: tuple[tuple[str, float], ...]  # ("all" | "women" | "men", mean best of three, s)
    words: str  # the hold, then the judgement: "21.0 s: below the average for 50-59 (41.2 s)"
    source: str | None
    judgement: str  # the words after the hold: "below the average for 50-59 (41.2 s)"


def age_in(year: int, birth_year: int) -> int:
    """A person's age in a year, from the birth year alone: the age reached on that year's birthday, so up to a
    year older than on the day (a year's difference moves a person to the next band only in the band's last
    year)."""
    return year - birth_year


def band_for(age: int) -> Band | None:
    return next((b for b in SPRINGER_2007 if b.holds(age)), None)


def hold_words(hold_s: float, ended_by: str) -> str:
    """A hold time as what it measured: a hold cut by the end of the test or of the picture is a lower bound."""
    if ended_by == "touch_down":
        return f"{hold_s:.1f} s"
    if ended_by in ("subject_lost", "someone_passed"):
        return f"{hold_s:.1f} s: held {HOLD_ENDED[ended_by]} (at least {hold_s:.1f} s)"
    return f"{hold_s:.1f} s: held to the end of the test (at least {hold_s:.1f} s; the foot did not come down)"


def _none(hold: str, why: str) -> Reference:
    return Reference("none", None, (), f"{hold}: {why}", None, why)


def _averages(band: Band, eyes: str) -> tuple[tuple[str, float], ...]:
    if eyes == "open":
        return (("all", band.open_all),)
    return (("women", band.closed_women), ("men", band.closed_men))


def _mean_words(band: Band, averages: tuple[tuple[str, float], ...]) -> str:
    if len(averages) == 1:
        return f"the average for {band.label} ({averages[0][1]:.1f} s)"
    parts = ", ".join(f"{who} {s:.1f} s" for who, s in averages)
    return f"the averages for {band.label} ({parts})"


def hold_reference(
    hold_s: float,
    *,
    age: int | None,
    eyes: str,
    surface: str,
    ended_by: str = "touch_down",
) -> Reference:
    """A hold time (a session's best, to match the best of three) against the people of the same age.

    `ended_by`: "touch_down" (a measured hold), else the hold ran to the end of the test ("clip_end",
    "time_up", "recording_end") or of the picture ("subject_lost") and is only a lower bound.
    """
    measured = ended_by == "touch_down"
    hold = f"{hold_s:.1f} s" + ("" if measured else " (held to the end of the test)")
    if surface not in ("", "floor"):
        where = SURFACE_WORDS.get(surface, surface)
        return _none(
            hold, f"no published age reference for single-leg stance on {where} ({SOURCE} tested a firm floor)"
        )
    if eyes not in EYES:
        return _none(hold, "eyes open or closed not recorded: no age reference (the two differ several-fold)")
    if age is None:
        return _none(hold, "no age given: no age reference")
    band = band_for(age)
    if band is None:
        return _none(hold, f"no age reference for age {age} ({SOURCE} tested adults 18 and over)")
    averages = _averages(band, eyes)
    low, high = min(s for _, s in averages), max(s for _, s in averages)
    mean = _mean_words(band, averages)
    floor_note = "" if surface == "floor" else " (surface not recorded; the reference is for a firm floor)"
    eyes_note = "" if eyes == "open" else ", eyes closed"
    if hold_s >= CEILING_S - 0.05:  # the reference test stopped every trial at 45 s
        verdict, said = "ceiling", f"at the ceiling of the test for {band.label}{eyes_note}"
        if high < CEILING_S - 0.5:
            said += f", above {mean}"
    elif not measured:
        if hold_s >= high:
            verdict, said = "at_least", f"at least {mean}{eyes_note}"
        else:
            verdict = "cannot_tell"
            said = f"the test ended before {mean}{eyes_note}: a longer test would tell"
    elif hold_s < low:
        verdict, said = "below", f"below {mean}{eyes_note}"
    elif hold_s > high:
        verdict, said = "above", f"above {mean}{eyes_note}"
    else:
        verdict, said = "between", f"between {mean}{eyes_note}"
    said += floor_note
    return Reference(verdict, band.label, averages, f"{hold}: {said}", SOURCE, said)


def hold_mdc_words(age: int | None) -> str:
    """The published MDC of a hold time, in words that say for whom it was measured."""
    lo, hi = HOLD_MDC_AGES
    text = f"published hold-time MDC: {HOLD_MDC_S:.1f} s, Goldberg et al. 2011, Gait Posture 33:737, adults {lo}-{hi}"
    if age is not None and not lo <= age <= hi:
        text += f"; none is published for age {age}"
    return text


def published_hold_mdc(age: int | None) -> float | None:
    """The published MDC of a hold time where it was measured for this age (60-89), else None."""
    lo, hi = HOLD_MDC_AGES
    return HOLD_MDC_S if age is not None and lo <= age <= hi else None
