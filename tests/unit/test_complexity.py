"""A complexity gate (radon's cyclomatic complexity grades, as `radon cc` prints them).

functions/ (the Lambda code): no function or method past grade C (complexity 20).
scripts/ (the tooling): the same for everything new; the functions past C when the gate came
are listed with their complexity then, and may only get simpler (lower the number, or remove the
line, when one is split). Most are the bench's report and plot code, kept as they are on purpose.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parents[2]
MAX_GRADE = "C"

# path:qualified name -> the complexity measured when the gate came (grade D or worse)
KNOWN = {
    "scripts/roomchat_tools/chat.py:run": 25,
    "scripts/roomchat_tools/chat.py:format_frame": 21,
    "scripts/roomchat_tools/local/apimodel.py:load_api": 23,
    "scripts/roomchat_tools/local/faults.py:Fault.from_json": 28,
    "scripts/roomchat_tools/infra/deploy.py:main": 21,
    "scripts/roomchat_tools/bench/cli.py:main": 22,
    "scripts/roomchat_tools/bench/report.py:markdown_report": 57,
    "scripts/roomchat_tools/bench/report.py:reading_the_targets": 25,
    "scripts/roomchat_tools/bench/plot.py:plot": 38,
    "scripts/roomchat_tools/bench/prose.py:_tuning_values": 23,
    "scripts/roomchat_tools/bench/analysis.py:analyse": 52,
}


def _complexities(folder: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if hasattr(block, "methods"):  # a class: its methods are listed on their own
                continue
            found[f"{relative}:{block.fullname}"] = block.complexity
    return found


def _past_the_limit(folder: str) -> dict[str, int]:
    return {k: v for k, v in _complexities(folder).items() if cc_rank(v) > MAX_GRADE}


def test_no_function_of_the_lambda_code_is_past_grade_c():
    assert _past_the_limit("functions") == {}


def test_no_new_function_of_the_tooling_is_past_grade_c_and_known_ones_get_no_worse():
    over = _past_the_limit("scripts")
    new = {k: v for k, v in over.items() if k not in KNOWN}
    worse = {k: (KNOWN[k], v) for k, v in over.items() if k in KNOWN and v > KNOWN[k]}
    assert new == {}, f"past grade {MAX_GRADE}: split them (radon cc -s -n D scripts)"
    assert worse == {}, "(known, now): more complex than when the gate came"
