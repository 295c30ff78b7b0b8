"""A plain `pip install` of the wheel finds its grammar and identities from anywhere.

Builds the wheel, installs it into a fresh virtual environment (dependencies are taken
from the running environment through a .pth file, so nothing is downloaded), and runs
the CLI from a folder outside the repository.
"""
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(REPO)], check=True)
    wheel = next(wheels.glob("matdiff-*.whl"))
    with zipfile.ZipFile(wheel) as archive:     # the web app's page and vendored KaTeX
        names = set(archive.namelist())
    for name in ("index.html", "app.js", "style.css", "katex/katex.min.js",
                 "katex/katex.min.css", "katex/LICENSE", "katex/fonts/KaTeX_Main-Regular.woff2"):
        assert f"matdiff/web/static/{name}" in names, name
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    site_packages = Path(site.stdout.strip())
    # dependencies (lark, numpy, sympy) come from this interpreter's site-packages
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                    "--target", str(site_packages), str(wheel)], check=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    run = subprocess.run(
        [str(python), "-m", "matdiff", "diff", "(x − As)ᵀW(x − As)", "--wrt", "s",
         "--let", "W: symmetric", "--check"],
        cwd=outside, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "−2AᵀW(x − As)"
    assert "check passed" in run.stdout
    where = subprocess.run(
        [str(python), "-c", "import matdiff, matdiff.identities as i; "
         "print(matdiff.__file__); print(len(i.load()))"],
        cwd=outside, capture_output=True, text=True, env=env, check=True).stdout.split()
    assert str(site_packages) in where[0] and str(REPO) not in where[0]
    assert int(where[1]) >= 40
