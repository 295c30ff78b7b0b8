"""The README's promises: its set-up commands, and every CLI example it shows."""
import re
import shlex
from pathlib import Path

import pytest

from matdiff.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands():
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_setup_commands():
    first_lines = README.split("```bash", 1)[0].strip().splitlines()
    assert first_lines == ["# matdiff"]
    install, tests = setup_commands()
    assert install.startswith("pip install -e . && matdiff diff ")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup_commands()[1] in ci.splitlines()


def examples():
    for block in re.findall(r"```text\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *output = chunk.rstrip("\n").split("\n")
            yield command, output


@pytest.mark.parametrize("command, output", list(examples()))
def test_cli_examples_print_what_the_readme_shows(capsys, command, output):
    argv = shlex.split(command)
    assert argv[0] == "matdiff"
    main(argv[1:])
    out, err = capsys.readouterr()
    shown = (out + err).rstrip("\n").split("\n")
    masked = [re.sub(r"max error \S+", "max error …", line) for line in shown]
    expected = [re.sub(r"max error \S+", "max error …", line) for line in output]
    assert masked == expected
