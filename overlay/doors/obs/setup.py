"""`study-overlay obs setup`: create the scenes in scenes/scenes.yaml and their overlay sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import obsws_python
import yaml

from ...i18n import N_, words_of
from .link import LinkError, close_client, connect, describe_error

BROWSER_KIND = "browser_source"
SCENES_FILE = "scenes.yaml"
EXIT_OK, EXIT_FAILED, EXIT_NO_BROWSER = 0, 1, 3


class ScenesFileError(Exception):
    """scenes.yaml is unreadable or malformed; the message names the key path."""


@dataclass(frozen=True)
class OverlaySource:
    name: str
    overlay: str
    width: int
    height: int
    x: int
    y: int


@dataclass(frozen=True)
class SceneSpec:
    name: str
    sources: tuple[OverlaySource, ...]


def _int(node: dict[str, Any], key: str, where: str, minimum: int) -> int:
    value = node.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ScenesFileError(f"{where}.{key}: expected an integer >= {minimum}, got {value!r}")
    return value


def _source(node: Any, where: str) -> OverlaySource:
    if not isinstance(node, dict):
        raise ScenesFileError(f"{where}: expected a mapping with overlay, width, height, x, y")
    overlay = node.get("overlay")
    if not isinstance(overlay, str) or not overlay.startswith("/"):
        raise ScenesFileError(f"{where}.overlay: expected a path like /overlay/bar, got {overlay!r}")
    name = node.get("name", "Study overlay: " + overlay.rstrip("/").rsplit("/", 1)[-1])
    if not isinstance(name, str) or not name.strip():
        raise ScenesFileError(f"{where}.name: expected a non-empty string, got {name!r}")
    return OverlaySource(name, overlay, _int(node, "width", where, 1), _int(node, "height", where, 1),
                         _int(node, "x", where, -100000), _int(node, "y", where, -100000))


def load_scenes(path: Path) -> list[SceneSpec]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenesFileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("scenes"), list):
        raise ScenesFileError(f"{path}: scenes: expected a list of scenes")
    specs: list[SceneSpec] = []
    shared: dict[str, OverlaySource] = {}
    for i, node in enumerate(doc["scenes"]):
        where = f"scenes[{i}]"
        name = node.get("name") if isinstance(node, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ScenesFileError(f"{where}.name: expected a scene name, got {name!r}")
        if any(spec.name == name for spec in specs):
            raise ScenesFileError(f"{where}.name: scene {name!r} is listed twice")
        nodes = node.get("sources", [])
        if not isinstance(nodes, list):
            raise ScenesFileError(f"{where}.sources: expected a list")
        sources = tuple(_source(n, f"{where}.sources[{j}]") for j, n in enumerate(nodes))
        for j, src in enumerate(sources):
            if any(other.name == src.name for other in sources[:j]):
                raise ScenesFileError(f"{where}.sources[{j}]: {src.name!r} is already in this scene")
            first = shared.setdefault(src.name, src)
            if (first.overlay, first.width, first.height) != (src.overlay, src.width, src.height):
                raise ScenesFileError(
                    f"{where}.sources[{j}]: source {src.name!r} is used elsewhere with another "
                    "overlay or size; give this one its own name")
        specs.append(SceneSpec(name, sources))
    return specs


@dataclass
class ObsState:
    """What setup needs to know about the connected OBS."""

    input_kinds: set[str] = field(default_factory=set)
    scenes: set[str] = field(default_factory=set)
    inputs: dict[str, str] = field(default_factory=dict)  # name -> input kind
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, tuple[int, float, float]]] = field(default_factory=dict)


def read_state(client: Any, specs: Sequence[SceneSpec]) -> ObsState:
    state = ObsState()
    state.input_kinds = set(client.send("GetInputKindList", raw=True)["inputKinds"])
    state.scenes = {s["sceneName"] for s in client.send("GetSceneList", raw=True)["scenes"]}
    for item in client.send("GetInputList", raw=True)["inputs"]:
        state.inputs[item["inputName"]] = item["inputKind"]
    wanted = {src.name for spec in specs for src in spec.sources}
    for name in wanted & state.inputs.keys():
        state.settings[name] = client.send("GetInputSettings", {"inputName": name},
                                           raw=True)["inputSettings"]
    for spec in specs:
        if spec.name in state.scenes:
            listed = client.send("GetSceneItemList", {"sceneName": spec.name}, raw=True)
            state.items[spec.name] = {
                it["sourceName"]: (it["sceneItemId"], it["sceneItemTransform"]["positionX"],
                                   it["sceneItemTransform"]["positionY"])
                for it in listed["sceneItems"]}
    return state


@dataclass(frozen=True)
class Action:
    verb: str  # create-scene | create-source | update-source | add-source | move-source
    scene: str = ""
    source: OverlaySource | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    item_id: int = 0

    def describe(self, done: bool) -> str:
        src = self.source
        if self.verb == "create-scene":
            return f"{'created' if done else 'create'} scene {self.scene!r}"
        assert src is not None
        at = f"at ({src.x}, {src.y})"
        if self.verb == "create-source":
            return (f"{'created' if done else 'create'} source {src.name!r} "
                    f"({self.settings.get('url')}, {src.width}x{src.height}) "
                    f"in scene {self.scene!r} {at}")
        if self.verb == "update-source":
            return (f"{'updated' if done else 'update'} source {src.name!r} to "
                    f"{self.settings.get('url')}, {src.width}x{src.height}")
        if self.verb == "add-source":
            return f"{'added' if done else 'add'} source {src.name!r} to scene {self.scene!r} {at}"
        return f"{'moved' if done else 'move'} source {src.name!r} in scene {self.scene!r} {at}"


def _settings(src: OverlaySource, base_url: str) -> dict[str, Any]:
    return {"url": base_url.rstrip("/") + src.overlay, "width": src.width, "height": src.height}


def plan(specs: Sequence[SceneSpec], state: ObsState, base_url: str, input_kind: str,
         ) -> tuple[list[Action], list[str]]:
    """The actions that make OBS match specs, and notes about what cannot be done."""
    actions: list[Action] = []
    notes: list[str] = []
    inputs, settings = dict(state.inputs), dict(state.settings)
    checked: set[str] = set()  # sources whose kind and settings were already planned
    for spec in specs:
        if spec.name not in state.scenes:
            actions.append(Action("create-scene", spec.name))
        if input_kind not in state.input_kinds:
            continue
        items = state.items.get(spec.name, {})
        for src in spec.sources:
            want = _settings(src, base_url)
            kind = inputs.get(src.name)
            if kind is None:
                actions.append(Action("create-source", spec.name, src, want))
                inputs[src.name], settings[src.name] = input_kind, want
                checked.add(src.name)
                continue
            if kind != input_kind:
                if src.name not in checked:
                    notes.append(f"source {src.name!r} exists but is a {kind}, not a "
                                 f"{input_kind}; rename or remove it, then run setup again")
                checked.add(src.name)
                continue
            have = settings.get(src.name, {})
            if src.name not in checked and any(have.get(k) != v for k, v in want.items()):
                actions.append(Action("update-source", spec.name, src, want))
            checked.add(src.name)
            if src.name not in items:
                actions.append(Action("add-source", spec.name, src))
            elif abs(items[src.name][1] - src.x) > 0.5 or abs(items[src.name][2] - src.y) > 0.5:
                actions.append(Action("move-source", spec.name, src, item_id=items[src.name][0]))
    return actions, notes


def apply(client: Any, action: Action, input_kind: str) -> None:
    src = action.source
    if action.verb == "create-scene":
        client.send("CreateScene", {"sceneName": action.scene})
        return
    assert src is not None
    if action.verb == "update-source":
        client.send("SetInputSettings", {"inputName": src.name, "inputSettings": action.settings,
                                         "overlay": True})
        return
    item_id = action.item_id
    if action.verb == "create-source":
        item_id = client.send("CreateInput", {
            "sceneName": action.scene, "inputName": src.name, "inputKind": input_kind,
            "inputSettings": action.settings, "sceneItemEnabled": True}, raw=True)["sceneItemId"]
    elif action.verb == "add-source":
        item_id = client.send("CreateSceneItem", {"sceneName": action.scene,
                                                  "sourceName": src.name}, raw=True)["sceneItemId"]
    client.send("SetSceneItemTransform", {
        "sceneName": action.scene, "sceneItemId": item_id,
        "sceneItemTransform": {"positionX": float(src.x), "positionY": float(src.y)}})


def _no_browser_note(specs: Sequence[SceneSpec], base_url: str) -> list[str]:
    lines = [f"OBS has no '{BROWSER_KIND}' input kind (Debian's obs-studio package is built "
             "without the browser plugin), so setup can create the scenes but not the overlay "
             "sources in them.",
             "Install OBS from obsproject.com or Flathub and run setup again, or add each "
             "overlay by hand as a Browser source:"]
    seen: dict[str, OverlaySource] = {s.name: s for spec in specs for s in spec.sources}
    lines += [f"  {s.name}: {_settings(s, base_url)['url']} ({s.width}x{s.height})"
              for s in seen.values()]
    return lines


def provision(client: Any | None, specs: Sequence[SceneSpec], *, base_url: str, dry_run: bool,
              out: TextIO, input_kind: str = BROWSER_KIND) -> int:
    """Plan against OBS (or against nothing when client is None) and apply unless dry_run."""
    state = read_state(client, specs) if client is not None else ObsState({input_kind})
    actions, notes = plan(specs, state, base_url, input_kind)
    if dry_run:
        print("Plan (dry run, OBS is not changed):" if actions else
              "Nothing to do: OBS already matches the scenes file.", file=out)
        for action in actions:
            print(f"  {action.describe(done=False)}", file=out)
    else:
        for action in actions:
            try:
                apply(client, action, input_kind)
            except Exception as exc:
                print(f"failed to {action.describe(done=False)}: {exc}", file=out)
                return EXIT_FAILED
            print(action.describe(done=True), file=out)
        if not actions:
            print("Nothing to do: OBS already matches the scenes file.", file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    if input_kind not in state.input_kinds:
        for line in _no_browser_note(specs, base_url):
            print(line, file=out)
        return EXIT_NO_BROWSER
    return EXIT_FAILED if notes else EXIT_OK


HINTS = {
    "unreachable": N_("Is OBS running? In OBS open Tools > WebSocket Server Settings, tick Enable "
                      "WebSocket server, and check that its port is the one here."),
    "auth": N_("Copy the password from OBS: Tools > WebSocket Server Settings > Show Connect Info."),
    "foreign": N_("Another program answers at this port: check the port in OBS's Tools > WebSocket "
                  "Server Settings."),
    "frozen": N_("OBS does not answer: it may be frozen or busy; restart it and try again."),
}


def probe(host: str, port: int, password: str, timeout: float = 3.0) -> dict[str, Any]:
    """The setup page's "Test connection": OBS's version, or the reason and what to do."""
    try:
        client = connect(obsws_python.ReqClient, host=host, port=port, password=password, timeout=timeout)
    except LinkError as exc:
        hint = HINTS.get(exc.kind)
        return {"ok": False, "reason": str(exc.reason), "words": words_of(exc.reason),
                "kind": exc.kind, "hint": hint}
    try:
        version = client.send("GetVersion", raw=True)
        kinds = client.send("GetInputKindList", raw=True)["inputKinds"]
    except Exception as exc:
        reason = describe_error(exc, host, port)
        return {"ok": False, "reason": str(reason), "words": words_of(reason), "kind": "other", "hint": None}
    finally:
        close_client(client)
    return {"ok": True, "obs": version.get("obsVersion"), "websocket": version.get("obsWebSocketVersion"),
            "browser_source": BROWSER_KIND in kinds}


def scenes_dir(config_path: Path | None) -> Path:
    """scenes/ beside the config when it has a scenes.yaml, else the scenes the package ships."""
    if config_path is not None:
        beside = Path(config_path).resolve().parent / "scenes"
        if (beside / SCENES_FILE).exists():
            return beside
    from ... import defaults  # installed as a tool: no scenes/ beside the user's config

    return defaults.SCENES.parent


def run_setup(*, host: str, port: int, password: str, base_url: str, scenes_dir: Path,
              dry_run: bool, out: TextIO) -> int:
    """Exit status: 0 done, 1 failed, 3 scenes done but OBS lacks browser sources."""
    path = scenes_dir / SCENES_FILE
    try:
        specs = load_scenes(path)
    except ScenesFileError as exc:
        print(f"error: {exc}", file=out)
        return EXIT_FAILED
    try:
        client = connect(obsws_python.ReqClient, host=host, port=port, password=password,
                         timeout=5.0)
    except LinkError as exc:
        if not dry_run:
            print(f"error: cannot connect to OBS: {exc.reason}", file=out)
            return EXIT_FAILED
        print(f"OBS not reachable ({exc.reason}); planning as if it were empty.", file=out)
        return provision(None, specs, base_url=base_url, dry_run=True, out=out)
    try:
        version = client.send("GetVersion", raw=True)
        print(f"OBS {version['obsVersion']} at {host}:{port}; scenes from {path}", file=out)
        return provision(client, specs, base_url=base_url, dry_run=dry_run, out=out)
    except Exception as exc:
        print(f"error: {describe_error(exc, host, port)}", file=out)
        return EXIT_FAILED
    finally:
        close_client(client)
