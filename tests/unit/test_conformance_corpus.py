"""The public MIWG reference corpus: every file either compiles (and its specs survive a
serialize/restore round trip) or is refused with a located, readable problem — never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn import compile_definitions
from engine.bpmn.serialization import dump_spec, load_spec
from engine.errors import DefinitionInvalid

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "miwg-reference"
FILES = sorted(CORPUS.glob("*.bpmn"))


def test_the_corpus_is_present():
    assert len(FILES) >= 20, f"expected the MIWG corpus at {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_compiles_or_is_refused_with_a_located_problem(path):
    try:
        compiled = compile_definitions({path.name: path.read_bytes()})
    except DefinitionInvalid as refused:
        for problem in refused.problems:
            assert problem.file == path.name
            assert problem.message
            if problem.element_id:
                assert isinstance(problem.line, int) and problem.line > 0
        return
    for process in compiled:
        assert dump_spec(load_spec(process.spec_json)) == process.spec_json
