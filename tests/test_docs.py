"""The documentation: the MkDocs site builds with --strict, every page in docs/ is in its navigation, the JSON
schema page shows the shipped schema, and every command-line option the README and the docs name exists in
the `--help` of its command."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from balance.cli.main import main
from balance.results.schema import SCHEMA_FILE

from .conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@functools.cache
def help_text(*command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    return out.getvalue()


def options_of(*command: str) -> set[str]:
    return set(OPTION.findall(help_text(*command)))


@functools.cache
def commands() -> tuple[str, ...]:
    usage = help_text().split("\n\n")[0]
    return tuple(re.search(r"\{([\w,]+)\}", usage)[1].split(","))  # type: ignore[index]


def command_of(words: list[str]) -> tuple[str, ...] | None:
    """The (sub)command a `balance ...` command line runs, e.g. ("programme", "start"); None for other programs."""
    if not words or Path(words[0]).name != "balance" or len(words) < 2 or words[1] not in commands():
        return None
    command = (words[1],)
    if len(words) > 2 and (command + (words[2],)) in every_command():  # a command with subcommands of its own
        command += (words[2],)
    return command


def command_lines(text: str) -> list[tuple[str, bool]]:
    """(command, whether it is an inline span) for each command of the code blocks (continued lines joined,
    `&&`/`;` chains split) and each inline code span."""
    lines = [(line, False) for block in FENCE.findall(text) for line in block.replace("\\\n", " ").splitlines()]
    lines += [(span, True) for span in SPAN.findall(FENCE.sub("", text))]
    return [(part.strip(), span) for line, span in lines for part in re.split(r"&&|;|\|\|", line) if part.strip()]


def named_options() -> list[tuple[str, str, tuple[str, ...] | None, str]]:
    """(page, option, command or None for prose, the line) for every option the pages name."""
    found = []
    for page in PAGES:
        for line, span in command_lines(page.read_text(encoding="utf-8")):
            try:
                words = shlex.split(line, comments=False)
            except ValueError:
                words = line.split()
            command = command_of(words)
            if command is not None:
                found += [(page.name, opt, command, line) for opt in OPTION.findall(line)]
            elif span and line.startswith("--"):  # an option named on its own in prose: some command must have it
                found.append((page.name, OPTION.match(line)[0], None, line))  # type: ignore[index]
    return found


@functools.cache
def every_command() -> tuple[tuple[str, ...], ...]:
    found: list[tuple[str, ...]] = []
    for name in commands():
        found.append((name,))
        if sub := re.search(r"\{([\w,]+)\} \.\.\.", help_text(name)):
            found += [(name, s) for s in sub[1].split(",")]
    return tuple(found)


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site), "--config-file", "mkdocs.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (site / "index.html").is_file()
    # The schema page shows the shipped file: every type and every field of it.
    page = (site / "schema" / "index.html").read_text(encoding="utf-8")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert "{{ schema_" not in page
    for name, definition in schema["$defs"].items():
        assert f"#/$defs/{name}" in page
        for field in definition["properties"]:
            assert f".{field}</code>" in page, f"{name}.{field} is not in the schema page's table"


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, list):
            return [p for item in nav for p in pages(item)]
        if isinstance(nav, dict):
            return [p for value in nav.values() for p in pages(value)]
        return []

    in_nav = set(pages(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk - in_nav == set(), "add these pages to mkdocs.yml's nav"


def test_every_option_the_docs_name_exists_in_its_commands_help() -> None:
    every = set().union(*(options_of(*c) for c in every_command()))
    named = named_options()
    wrong = [
        f"{page}: {opt} ({'balance ' + ' '.join(cmd) if cmd else 'no command has it'}): {line}"
        for page, opt, cmd, line in named
        if opt not in (options_of(*cmd) if cmd else every)
    ]
    assert not wrong, "\n".join(wrong)
    # The check reads the pages: the main commands' options are found in them.
    assert {("analyze", "--height-cm"), ("serve", "--https"), ("batch", "--scheduler")} <= {
        (cmd[0], opt) for _, opt, cmd, _ in named if cmd
    }


def test_the_check_catches_an_option_that_does_not_exist() -> None:
    words = shlex.split("balance analyze clip.mp4 --hight-cm 170")
    assert command_of(words) == ("analyze",)
    assert "--hight-cm" not in options_of("analyze")
    assert command_of(shlex.split("balance programme start Sam --weeks 6")) == ("programme", "start")
    assert "--weeks" in options_of("programme", "start")
    assert command_of(shlex.split("dask worker tcp://s:8786 --nthreads 1")) is None


def test_the_readme_is_short_and_points_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 175
    core = ["user-guide", "filming", "numbers", "web", "batch", "schema", "development"]
    assert [p for p in core if f"(docs/{p}.md)" not in readme] == []
