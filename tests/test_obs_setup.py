"""`obs setup` against a real OBS under Xvfb, plus the scenes file checks that need no OBS."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from overlay.doors.obs.setup import ScenesFileError, load_scenes, provision, run_setup
from tests.obs_harness import Obs, client, free_port, require_obs, running_obs

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8754"
SHIPPED = ["Review", "Lecture", "Lecture (practice)", "Reading", "Questionnaire", "Project",
           "Break", "Finished"]


@pytest.fixture(scope="module")
def obs() -> Iterator[Obs]:
    require_obs()
    with running_obs(["Scene"]) as (_, instance):
        yield instance


def setup(obs: Obs, scenes_dir: Path, *, dry_run: bool = False,
          password: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    status = run_setup(host="127.0.0.1", port=obs.port,
                       password=obs.password if password is None else password,
                       base_url=BASE, scenes_dir=scenes_dir, dry_run=dry_run, out=out)
    return status, out.getvalue()


def scene_names(obs: Obs) -> set[str]:
    return {s["sceneName"] for s in obs.request("GetSceneList")["scenes"]}


def write_scenes(folder: Path, text: str) -> Path:
    (folder / "scenes.yaml").write_text(text)
    return folder


@pytest.mark.obs
def test_setup_creates_the_shipped_scenes_once_and_says_browser_is_missing(obs: Obs):
    status, out = setup(obs, ROOT / "scenes")
    assert status == 3
    for name in SHIPPED:
        assert f"created scene {name!r}" in out
    assert "OBS has no 'browser_source' input kind" in out
    assert f"Study overlay: timer: {BASE}/overlay/timer (360x120)" in out
    assert set(SHIPPED) <= scene_names(obs)

    before = scene_names(obs)
    status, out = setup(obs, ROOT / "scenes")
    assert status == 3
    assert "Nothing to do" in out and "created scene" not in out
    assert scene_names(obs) == before


@pytest.mark.obs
def test_dry_run_prints_the_plan_and_changes_nothing(obs: Obs, tmp_path: Path):
    folder = write_scenes(tmp_path, "scenes:\n  - name: Dry one\n  - name: Dry two\n")
    before = scene_names(obs)
    status, out = setup(obs, folder, dry_run=True)
    assert "Plan (dry run, OBS is not changed):" in out
    assert "  create scene 'Dry one'" in out and "  create scene 'Dry two'" in out
    assert status == 3  # this OBS lacks browser sources, and says so in the plan too
    assert scene_names(obs) == before


@pytest.mark.obs
def test_sources_are_created_placed_and_corrected_idempotently(obs: Obs, tmp_path: Path):
    # Debian's OBS has no browser_source; color_source_v3 also has width and height and
    # keeps the url setting, so it exercises the same requests against the real OBS.
    text = """scenes:
  - name: Src one
    sources:
      - {overlay: /overlay/bar, width: 640, height: 40, x: 0, y: 320}
      - {overlay: /overlay/timer, width: 200, height: 60, x: 430, y: 10}
  - name: Src two
    sources:
      - {overlay: /overlay/bar, width: 640, height: 40, x: 0, y: 0}
"""
    specs = load_scenes(write_scenes(tmp_path, text) / "scenes.yaml")

    def run(dry_run: bool = False) -> str:
        out = io.StringIO()
        with client(obs.port, obs.password) as cl:
            assert provision(cl, specs, base_url=BASE, dry_run=dry_run, out=out,
                             input_kind="color_source_v3") == 0
        return out.getvalue()

    out = run()
    assert f"created source 'Study overlay: bar' ({BASE}/overlay/bar, 640x40) in scene " \
           "'Src one' at (0, 320)" in out
    assert "added source 'Study overlay: bar' to scene 'Src two' at (0, 0)" in out
    settings = obs.request("GetInputSettings", {"inputName": "Study overlay: bar"})
    assert settings["inputSettings"] == {"url": f"{BASE}/overlay/bar", "width": 640, "height": 40}
    items = obs.request("GetSceneItemList", {"sceneName": "Src one"})["sceneItems"]
    placed = {i["sourceName"]: (i["sceneItemTransform"]["positionX"],
                                i["sceneItemTransform"]["positionY"]) for i in items}
    assert placed == {"Study overlay: bar": (0.0, 320.0), "Study overlay: timer": (430.0, 10.0)}
    assert "Nothing to do" in run()

    # Someone moves a source and edits its URL by hand: setup puts both back, once.
    item = next(i for i in items if i["sourceName"] == "Study overlay: timer")
    obs.request("SetSceneItemTransform", {"sceneName": "Src one", "sceneItemId": item["sceneItemId"],
                                          "sceneItemTransform": {"positionX": 5.0}})
    obs.request("SetInputSettings", {"inputName": "Study overlay: bar",
                                     "inputSettings": {"url": "http://elsewhere/"}})
    plan = run(dry_run=True)
    assert "move source 'Study overlay: timer' in scene 'Src one' at (430, 10)" in plan
    assert f"update source 'Study overlay: bar' to {BASE}/overlay/bar, 640x40" in plan
    out = run()
    assert "moved source" in out and "updated source" in out
    assert "Nothing to do" in run()


@pytest.mark.obs
def test_wrong_password_is_reported(obs: Obs):
    status, out = setup(obs, ROOT / "scenes", password="wrong")
    assert status == 1
    assert "error: cannot connect to OBS: authentication failed: wrong password" in out


def test_unreachable_obs():
    port = free_port()

    def run(dry_run: bool) -> tuple[int, str]:
        out = io.StringIO()
        status = run_setup(host="127.0.0.1", port=port, password="", base_url=BASE,
                           scenes_dir=ROOT / "scenes", dry_run=dry_run, out=out)
        return status, out.getvalue()

    status, out = run(dry_run=False)
    assert status == 1
    assert f"cannot connect to OBS: OBS not reachable at 127.0.0.1:{port} (connection refused)" in out
    status, out = run(dry_run=True)
    assert status == 0
    assert "planning as if it were empty" in out and "create source 'Study overlay: bar'" in out


@pytest.mark.parametrize(("text", "message"), [
    ("scenes: 3\n", "scenes: expected a list of scenes"),
    ("scenes:\n  - {sources: []}\n", "scenes[0].name: expected a scene name"),
    ("scenes:\n  - name: A\n  - name: A\n", "scenes[1].name: scene 'A' is listed twice"),
    ("scenes:\n  - name: A\n    sources:\n      - {overlay: bar, width: 1, height: 1, x: 0, y: 0}\n",
     "scenes[0].sources[0].overlay: expected a path like /overlay/bar"),
    ("scenes:\n  - name: A\n    sources:\n      - {overlay: /o/bar, width: 0, height: 1, x: 0, y: 0}\n",
     "scenes[0].sources[0].width: expected an integer >= 1, got 0"),
    ("scenes:\n  - name: A\n    sources:\n      - {overlay: /o/bar, width: 9, height: 1, x: 0, y: 0}\n"
     "  - name: B\n    sources:\n      - {overlay: /o/bar, width: 8, height: 1, x: 0, y: 0}\n",
     "scenes[1].sources[0]: source 'Study overlay: bar' is used elsewhere with another overlay"),
])
def test_scenes_file_errors_name_the_key(tmp_path: Path, text: str, message: str):
    with pytest.raises(ScenesFileError) as info:
        load_scenes(write_scenes(tmp_path, text) / "scenes.yaml")
    assert message in str(info.value)


def test_shipped_scenes_file_is_valid():
    names = [spec.name for spec in load_scenes(ROOT / "scenes" / "scenes.yaml")]
    assert names == SHIPPED
