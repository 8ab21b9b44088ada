"""Installed like a tool: the wheel carries everything the service needs, `init` writes a first
config into the user's folders, and serve, a command and the pages work from a fresh venv and a
fresh HOME, nothing read from the clone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from overlay import defaults

from .procs import ROOT, free_port, wait_for


def test_the_package_ships_the_clones_routine_and_scenes() -> None:
    assert defaults.CONFIG.read_text() == (ROOT / "config.yaml").read_text()
    assert defaults.SCENES.read_text() == (ROOT / "scenes" / "scenes.yaml").read_text()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from the clone and installed into a venv of its own."""
    folder = tmp_path_factory.mktemp("wheel")
    # The files git knows, copied alone: a build in the clone would also pick up what an editable
    # install left there (overlay.egg-info lists every file), and hide a file the wheel lacks.
    source = folder / "source"
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check",
                    "-w", str(folder / "dist"), str(source)], check=True, timeout=300)
    [wheel] = (folder / "dist").glob("study_overlay-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = str(venv / "bin" / "pip")
    subprocess.run([pip, "install", "-q", "--disable-pip-version-check", str(wheel)], check=True, timeout=600)
    return venv


def test_the_wheel_runs_from_a_fresh_home_with_nothing_from_the_clone(
    installed: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "STUDY_OVERLAY", "PYTHON"))}
    env.update(HOME=str(home), PATH=f"{installed / 'bin'}:/usr/bin:/bin")
    tool = str(installed / "bin" / "study-overlay")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tool, *args], cwd=home, env=env, capture_output=True, text=True, timeout=60)

    python = str(installed / "bin" / "python")
    where = subprocess.run([python, "-c", "import overlay; print(overlay.__file__)"], cwd=home, env=env,
                           capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(installed)), where.stdout  # the package in the venv, not the clone
    done = run("init")
    assert done.returncode == 0, done.stderr
    config = home / ".config" / "study-overlay" / "config.yaml"
    assert config.is_file() and (home / ".config" / "study-overlay" / "scenes" / "scenes.yaml").is_file()
    assert run("init").returncode == 0 and "left as it is" in run("init").stdout  # never overwritten
    port = free_port()
    config.write_text(config.read_text().replace("port: 8754", f"port: {port}"))
    shown = run("where")
    assert shown.returncode == 0 and str(config) in shown.stdout
    assert str(home / ".local" / "share" / "study-overlay" / "study-overlay.sqlite3") in shown.stdout
    server = subprocess.Popen([tool, "serve"], cwd=home, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(f"{url}/healthz", timeout=1).status == 200, "serve")
        done = run("start")
        assert done.returncode == 0, done.stderr
        for path in ("/overlay/timer", "/setup"):
            with urllib.request.urlopen(f"{url}{path}", timeout=5) as page:
                html = page.read().decode()
            for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
                with urllib.request.urlopen(url + asset, timeout=5) as answer:
                    assert answer.status == 200, asset
        assert str(config) in html  # /setup saves to the config in the user's folder
        done = run_setup_save(url)
        assert done == "[]" and "label: Finish the course" in config.read_text()
        with urllib.request.urlopen(f"{url}/sounds/break", timeout=5) as answer:
            assert answer.read()[:4] == b"RIFF"
        with urllib.request.urlopen(f"{url}/api/state", timeout=5) as answer:
            state = json.loads(answer.read())
        assert state["phase"] == "running" and state["hotkeys"]["state"] in ("off", "error")
        reason = state["hotkeys"]["reason"]
        assert "study-overlay[hotkeys]" in reason or "DISPLAY" in reason, reason
        assert str(ROOT) not in json.dumps(state)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert str(ROOT) not in output, output
    assert "First start: open" in output  # a fresh database: serve points to /setup


def run_setup_save(url: str) -> str:
    """A save from /setup on the installed tool: ruamel.yaml is there, the config in the user's folder."""
    with urllib.request.urlopen(f"{url}/api/setup", timeout=5) as answer:
        form = json.loads(answer.read())
    body = {"version": form["version"], "steps": form["steps"], "goal": form["goal"],
            "deadline": {**form["deadline"], "label": "Finish the course"}}
    request = urllib.request.Request(f"{url}/api/setup/routine", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        return str(json.loads(answer.read())["at_start"])
