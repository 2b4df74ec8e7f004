"""ScenarioSet: the vectorised quote values equal the scenario snapshots, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricing.errors import InputFileError
from pricing.market import MarketSnapshot
from pricing.scenarios import ScenarioSet, load_scenarios


def _set() -> ScenarioSet:
    return ScenarioSet.from_shifts(
        ["base", "rates up", "rates down, vols up", "spx crash"],
        [
            ("IR.USD.*", "ABSOLUTE", [0.0, 0.0025, -0.0010, 0.0]),
            ("IR.CHF.*", "ABSOLUTE", [0.0, 0.01, 0.0, 0.0]),
            ("VOL.*", "MULTIPLY", [1.0, 1.0, 1.2, 1.5]),
            ("EQ.SPX.SPOT", "RELATIVE", [0.0, 0.0, 0.0, -0.2]),
            ("VOL.EQ.SPX.*", "MULTIPLY", [1.0, 1.1, 1.0, 1.0]),  # composes with VOL.*
        ],
    )


def test_quote_values_equal_scenario_snapshots(demo_snapshot: MarketSnapshot) -> None:
    s = _set()
    values = s.quote_values(demo_snapshot)
    for i in range(s.n):
        snap = s.snapshot(i, demo_snapshot)
        for qid, v in values.items():
            assert v[i] == snap[qid], (qid, i)  # exact: the same float operations
        untouched = set(demo_snapshot.quotes) - set(values)
        assert all(snap[q] == demo_snapshot[q] for q in untouched)
    assert "FX.EURUSD" not in values  # unshocked quotes stay scalar
    assert s.snapshot(0, demo_snapshot) is demo_snapshot


def test_validation() -> None:
    with pytest.raises(ValueError, match="scenario 0 is the base"):
        ScenarioSet.from_shifts(["a", "b"], [("IR.*", "ABSOLUTE", [0.001, 0.0])])
    with pytest.raises(ValueError, match="2 values for 3 scenarios"):
        ScenarioSet.from_shifts(["a", "b", "c"], [("IR.*", "ABSOLUTE", [0.0, 0.1])])
    with pytest.raises(ValueError, match="unique"):
        ScenarioSet(("a", "a"))
    with pytest.raises(ValueError, match="multiplier"):
        ScenarioSet.from_shifts(["a", "b"], [("VOL.*", "MULTIPLY", [1.0, -1.0])])


def test_unmatched_shift_is_an_error(demo_snapshot: MarketSnapshot) -> None:
    s = ScenarioSet.from_shifts(["a", "b"], [("IR.XXX.*", "ABSOLUTE", [0.0, 0.1])])
    with pytest.raises(ValueError, match="matches no quote"):
        s.quote_values(demo_snapshot)


def test_hash_and_base_only() -> None:
    assert _set().content_hash() == _set().content_hash()
    assert ScenarioSet.base_only().n == 1
    assert ScenarioSet.base_only().content_hash() != _set().content_hash()


def test_load_scenarios_file(tmp_path: Path, demo_snapshot: MarketSnapshot) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(
        "names: [base, usd+25, spx-10]\n"
        "shifts:\n"
        "  - {pattern: 'IR.USD.*', shift: absolute, values: [0, 0.0025, 0]}\n"
        "  - {pattern: EQ.SPX.SPOT, shift: RELATIVE, values: [0, 0, -0.1]}\n"
    )
    s = load_scenarios(p)
    assert s.names == ("base", "usd+25", "spx-10")
    assert s.snapshot(2, demo_snapshot)["EQ.SPX.SPOT"] == demo_snapshot["EQ.SPX.SPOT"] * 0.9


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "names: [a, b]\nshifts: [{pattern: 'IR.*', shift: ABSOLUTE, values: [0.1, 0]}]\n",
            "scenario 0 is the base",
        ),
        ("names: [a, b]\nshifts: [{pattern: 'IR.*', values: [0, 1]}]\n", "shift"),
        ("[1, 2]\n", "expected a mapping"),
        ("names: [a\n", "not valid YAML"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, text: str, why: str) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    with pytest.raises(InputFileError, match=why):
        load_scenarios(p)
