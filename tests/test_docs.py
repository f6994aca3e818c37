"""Every code block of the README and the docs runs as written.

Python blocks of a file run in order in one namespace (a later block may use what an
earlier one defined), in a temporary working directory. Command-line blocks are checked
against the ``skmvc`` parser (every ``skmvc`` / ``python -m skmvc`` line must parse); the
install lines are exercised by ``.ci/run`` itself.
"""

from __future__ import annotations

import re
import shlex
import textwrap
import warnings
from pathlib import Path

import pytest

from skmvc._cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
#: The README and the hand-written pages (not sphinx-gallery's generated timing page).
DOCUMENTS = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").glob("*.rst") if p.name != "sg_execution_times.rst"),
]


def code_blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """``(first line number, code)`` of each ``language`` block of a Markdown or reST file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    if path.suffix == ".md":
        fence = re.compile(rf"^```{language}\s*$")
        i = 0
        while i < len(lines):
            if fence.match(lines[i]):
                j = i + 1
                while not lines[j].startswith("```"):
                    j += 1
                blocks.append((i + 2, "\n".join(lines[i + 1 : j])))
                i = j
            i += 1
        return blocks
    directive = re.compile(rf"^(\s*)\.\. code-block:: {language}\s*$")
    for i, line in enumerate(lines):
        match = directive.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        j = i + 1
        while j < len(lines) and (lines[j].startswith(":", indent + 3) or not lines[j].strip()):
            j += 1  # options and the blank line after the directive
        start = j
        while j < len(lines) and (
            not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
        ):
            j += 1
        blocks.append((start + 1, textwrap.dedent("\n".join(lines[start:j])).strip("\n")))
    return blocks


def test_code_blocks_are_found():
    assert len(code_blocks(ROOT / "README.md", "python")) >= 1
    assert len(code_blocks(ROOT / "docs" / "user_guide.rst", "python")) >= 3
    assert len(code_blocks(ROOT / "README.md", "bash")) >= 3


def run_python_blocks(path: Path, skip=()) -> None:
    """Run the file's Python blocks in order in one namespace; a failing block raises an
    ``AssertionError`` naming the file and the block's line. A document whose only block is
    in ``skip`` (run by another document's test) runs nothing."""
    blocks = code_blocks(path, "python")
    namespace: dict = {"__name__": "__main__"}  # as when run as a script
    for line, code in blocks:
        if code in skip and len(blocks) == 1:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
            except Exception as exc:  # the block's location, then the error
                raise AssertionError(f"{path.name}, block at line {line}: {exc!r}") from exc


#: Pages whose examples train on the bundled Handwritten set (minutes, like the tests that
#: check learning, and left out with them by ``-m "not learning"``).
TRAINING_PAGES = {"README.md", "user_guide.rst"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=[pytest.mark.learning] if p.name in TRAINING_PAGES else [])
        for p in DOCUMENTS
    ],
    ids=[p.name for p in DOCUMENTS],
)
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pytest.importorskip("matplotlib").use("Agg")
    readme = ROOT / "README.md"
    # The README's first example is also the docs' front page: the README's test runs it.
    skip = () if path == readme else {code for _, code in code_blocks(readme, "python")}
    run_python_blocks(path, skip)


def test_a_broken_block_fails(tmp_path):
    doc = tmp_path / "broken.rst"
    doc.write_text(
        "Text\n\n.. code-block:: python\n\n   x = 1\n\n.. code-block:: python\n\n"
        "   print(views)\n\nMore text\n"
    )
    assert [line for line, _ in code_blocks(doc, "python")] == [5, 9]
    with pytest.raises(AssertionError, match="broken.rst, block at line 9: NameError"):
        run_python_blocks(doc)


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_command_lines_parse(path):
    parser = build_parser()
    for line, code in code_blocks(path, "bash"):
        for command in code.replace("\\\n", " ").splitlines():
            command = command.split(" #")[0].strip()
            for part in command.split("&&"):
                words = shlex.split(part)
                if words[:3] == ["python", "-m", "skmvc"]:
                    args = words[3:]
                elif words[:1] == ["skmvc"]:
                    args = words[1:]
                else:
                    continue
                try:
                    parser.parse_args(args)
                except SystemExit as exc:
                    raise AssertionError(f"{path.name}:{line}: {part.strip()!r}") from exc


# --- What the docs say, against the code -------------------------------------------------

#: Pages a user reads, and the prose of tests and benchmarks (words test).
PROSE = [
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(p for p in (ROOT / "docs").glob("*.rst") if p.name != "sg_execution_times.rst"),
    *sorted((ROOT / "skmvc").rglob("*.py")),
    *sorted((ROOT / "tests").glob("*.py")),
    *sorted((ROOT / "examples").glob("*.py")),
    *sorted((ROOT / "benchmarks").rglob("*.py")),
    *sorted((ROOT / "benchmarks").rglob("*.md")),
]
#: Words of how the project was worked on, not of what it does: issue numbers, numbered
#: work steps and commit ids belong in commit messages, not in what users read.
INTERNAL_WORDS = [
    (re.compile(r"\bissues? #?\d+", re.I), "an issue number"),
    (re.compile(r"(?<![\w/])#\d{1,4}\b(?!\w)"), "an issue number"),
    (re.compile(r"\bstops? \d+\b", re.I), "a numbered work step"),
    (re.compile(r"\bsession \d+\b", re.I), "a numbered work step"),
    (re.compile(r"\bcommits? `*[0-9a-f]{7,40}\b"), "a commit id"),
]


def internal_words(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in INTERNAL_WORDS:
            for match in pattern.finditer(line):
                found.append(f"line {number}: {what}: {match.group(0)!r}")
    return found


def test_internal_words_are_caught():
    # Built from pieces, so that this file holds none of the words it looks for.
    step, issue, commit = "st" + "op 44", "iss" + "ue 13", "com" + "mit adf3b35"
    text = f"as since {step}\n{issue}'s target\nsee #" + f"56 here\n{commit} built it\n"
    assert len(internal_words(text)) == 4
    assert internal_words("stop early after 10 epochs; 5 000 stops; colour #fff; a#1") == []


@pytest.mark.parametrize("path", PROSE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_internal_words(path):
    assert internal_words(path.read_text(encoding="utf-8")) == []


def test_pages_a_user_reads_in_minutes():
    assert len((ROOT / "docs" / "benchmarks.md").read_text().splitlines()) <= 400
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert len(changelog.splitlines()) <= 150
    for heading in ("### Added", "### Changed", "### Fixed", "### Removed"):
        assert heading in changelog


def test_benchmark_tables_name_their_command():
    """Every table of the benchmarks page is a report block of a command that exists."""
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    commands = re.findall(r"<!-- report: python (\S+)", page)
    assert len(commands) >= 6
    for script in commands:
        assert (ROOT / script).is_file(), script


#: Defaults the pages name in words: (page, the words, class, parameter, value). The words
#: must be on the page, and the value must be the class's default.
NAMED_DEFAULTS = [
    ("docs/user_guide.rst", "CONAN runs three restarts by default", "CONAN", "n_init", 3),
    ("docs/user_guide.rst", "fuses the view encodings (their mean by default", "CONAN",
     "fusion", "auto"),
    ("docs/user_guide.rst", "CMMC keeps its head by default", "CMMC", "assign_labels", "auto"),
    ("README.md", "side by side by default", "EAMC", "embedding", "views"),
    ("CHANGELOG.md", "`n_init=3`", "CONAN", "n_init", 3),
    ("CHANGELOG.md", "(`view_contrast_weight=1`", "CRRC", "view_contrast_weight", 1),
    ("CHANGELOG.md", "(`image_autoencoder=\"conv\"`)", "CRRC", "image_autoencoder", "conv"),
    ("CHANGELOG.md", "`assign_labels=\"kmeans\"`", "EAMC", "assign_labels", "kmeans"),
]  # fmt: skip
#: ``name=value`` followed by "(X's default)" or "(X's and Y's default)".
INLINE_DEFAULT = re.compile(r"``?(\w+)=([^`]+)``?\s*\(((?:\w+'s(?:,| and)?\s*)+)default\)")


def _estimator(short):
    import skmvc

    return getattr(skmvc, f"{short}Clustering")()


def test_inline_defaults_are_found():
    found = INLINE_DEFAULT.findall("``batch_size=\"auto\"`` (CRRC's and RAV's default)")
    assert found == [("batch_size", '"auto"', "CRRC's and RAV's ")]


@pytest.mark.parametrize("page", ["README.md", "docs/user_guide.rst", "docs/benchmarks.md"])
def test_defaults_named_inline_match_the_code(page):
    import ast

    text = " ".join((ROOT / page).read_text().split())
    for name, value, owners in INLINE_DEFAULT.findall(text):
        for owner in re.findall(r"(\w+)'s", owners):
            params = _estimator(owner).get_params()
            assert params[name] == ast.literal_eval(value), (page, owner, name)


@pytest.mark.parametrize("page, words, owner, name, value", NAMED_DEFAULTS)
def test_defaults_named_in_words_match_the_code(page, words, owner, name, value):
    assert words in " ".join((ROOT / page).read_text().split())
    assert _estimator(owner).get_params()[name] == value


def test_the_benchmarks_page_is_written_from_the_reports(tmp_path):
    """``benchmarks/report.py`` writes each command's output between its markers and
    ``--check`` says when a page differs from the commands' output."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("report", ROOT / "benchmarks" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    page = tmp_path / "page.md"
    block = "<!-- report: python -c \"print('| a |')\" -->\n{}<!-- /report -->\n"
    page.write_text("# Page\n\n" + block.format("| stale |\n"))
    assert report.main(["--check", "--page", str(page)]) == 1
    assert report.main(["--page", str(page)]) == 0
    assert page.read_text() == "# Page\n\n" + block.format("| a |\n")
    assert report.main(["--check", "--page", str(page)]) == 0
