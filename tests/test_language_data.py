"""Adding a language touches data, not the engine: no English word lists or English regular
expressions in the engine's Python modules (they belong in app/nlu/context/<lang>.yml)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "app/nlu/timing.py",
    "app/nlu/extractor.py",
    "app/nlu/context.py",
    "app/nlu/pipeline.py",
    "app/triage/engine.py",
    "app/dialogue/decision.py",
)
# Technical names (windows, flags, levels, categories), not words of a language.
TECHNICAL_NAMES = frozenset(
    {"WINDOWS", "FLAGS", "CONTEXT_FLAGS", "LEVELS", "IN_WINDOW", "ANSWER_INTENTS"}
)
# Words that may appear in a regular expression of the engine (none so far).
REGEX_WORDS: frozenset[str] = frozenset()
_WORD = re.compile(r"[a-z' ]*[a-z][a-z' ]*")
_COLLECTIONS = (ast.Tuple, ast.List, ast.Set, ast.Dict)
# group names and escapes ("(?P<unit>", "\\b", "\\u3400") are no words
_NOT_WORDS = re.compile(r"\(\?P[<=]\w+>?|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[A-Za-z]")


def _word_strings(node: ast.AST) -> list[str]:
    """Lower-case word strings of a literal: its string constants, and the words of
    "a b c".split()."""
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            text = child.func.value
            if child.func.attr == "split" and isinstance(text, ast.Constant):
                found += [w for w in str(text.value).split() if _WORD.fullmatch(w)]
        elif isinstance(child, _COLLECTIONS):
            elements = [*child.keys, *child.values] if isinstance(child, ast.Dict) else child.elts
            for element in elements:
                for constant in ast.walk(element) if element is not None else ():
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                        if _WORD.fullmatch(constant.value):
                            found.append(constant.value)
    return found


def _assignments(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(name, value) of module-level and class-level assignments."""
    bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    found = []
    for body in bodies:
        for statement in body:
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            else:
                continue
            names = [t.id if isinstance(t, ast.Name) else ast.unparse(t) for t in targets]
            found.append((" = ".join(names), value))
    return found


def _regex_strings(tree: ast.Module) -> list[str]:
    """The string parts of every re.compile(...) pattern, and of every other string that
    looks like a regular expression (with "(?" or "\\b")."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"re.compile", "compile"}:
            found += [part for argument in node.args[:1] for part in _string_parts(argument)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "(?" in node.value or "\\b" in node.value:
                found.append(node.value)
    return found


def _string_parts(node: ast.AST) -> list[str]:
    """The literal text of a pattern expression ("..." + f"...{x}..."), not of the names,
    keys and calls that compute its other parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [part for value in node.values for part in _string_parts(value)]
    if isinstance(node, ast.BinOp):
        return _string_parts(node.left) + _string_parts(node.right)
    return []


def english_in(source: str) -> list[str]:
    """What in a module's source looks like language data rather than engine."""
    tree = ast.parse(source)
    problems = []
    for name, value in _assignments(tree):
        if name in TECHNICAL_NAMES:
            continue
        words = _word_strings(value)
        if len(words) >= 3:
            problems.append(f"{name}: word list {sorted(set(words))[:6]}")
    for pattern in _regex_strings(tree):
        words = set(re.findall(r"[a-z]{4,}", _NOT_WORDS.sub(" ", pattern))) - REGEX_WORDS
        if words:
            problems.append(f"pattern {pattern[:60]!r}: words {sorted(words)[:6]}")
    return problems


@pytest.mark.parametrize("module", MODULES)
def test_no_english_in_the_engine(module):
    problems = english_in((ROOT / module).read_text(encoding="utf-8"))
    assert not problems, f"{module}: move these to app/nlu/context/<lang>.yml: {problems}"


@pytest.mark.parametrize(
    "source",
    [
        # word lists as they used to be written in the engine
        '_FEVER_WORDS = frozenset({"temp", "temperature", "fever"})',
        '_NUMBER_WORDS = {"a": 1, "an": 1, "half an": 0.5}',
        'UNSURE = ("not sure", "don\'t know", "dunno", "?")',
        'LEADS = (("when", "i", "was"), ("aged",))',
        'STARTS = frozenset("what how can".split())',
        'class A:\n    WORDS = ["one", "two", "three"]',
        # English regular expressions
        'AFTER = re.compile(r"^\\s*(?:years?|mg)\\b")',
        'UNIT = rf"(?P<unit>minutes?|hours?)"',
        "def f():\n    return re.compile(f'{x} finished at')",
    ],
)
def test_the_check_finds_english(source):
    assert english_in(source)


def test_technical_names_and_group_names_pass():
    source = (
        'WINDOWS = ("during", "within_2h", "later", "unknown")\n'
        'PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\\w-]*)\\s*$")\n'
        'NUMBER = re.compile(r"\\d+(?:[.,]\\d+)?\\b")\n'
    )
    assert english_in(source) == []
