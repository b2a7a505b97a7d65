"""Schema fuzzing (schemathesis) of each contract in ``contracts/openapi/`` against the
standalone platform through the gateway, as a signed-in citizen and with the staff,
operator, county and supervisor credentials where a route is theirs: no answer is a 5xx,
and every answer has a status, content type and body its contract documents.

A small example budget keeps this quick; ``tools/fuzz.py`` runs the full budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tools import fuzz

EXAMPLES = 2
PHASES = ["examples", "fuzzing"]


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """The standalone platform and the callers' headers (signed in once: a run is short)."""
    var_dir = tmp_path_factory.mktemp("fuzz")
    with fuzz.standalone(var_dir) as base:
        yield base, asyncio.run(fuzz.sign_in(base, var_dir))


@pytest.mark.parametrize("contract", fuzz.ALL_CONTRACTS)
def test_every_answer_is_what_the_contract_says(
    platform: tuple[str, dict[str, dict[str, str]]], contract: str
):
    base, headers = platform

    tally = fuzz.fuzz_contract(
        contract, base, headers, examples=EXAMPLES, phases=PHASES, seed=20261202
    )

    assert tally.requests > 0 and not tally.errors, tally.errors[:5]
    assert (tally.server_errors, tally.violations) == (0, 0), fuzz.report({contract: tally})
