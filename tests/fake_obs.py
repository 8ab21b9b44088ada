"""A stand-in that speaks obs-websocket 5.5's protocol, for what the real OBS here (29, with
obs-websocket 5.1) cannot do: recording chapters (CreateRecordChapter, OBS 30.2+).

It follows the protocol document (docs/generated/protocol.md of obs-websocket): Hello (op 0)
with an authentication challenge and salt, Identify (op 1) checked against the password, then
Identified (op 2); Request (op 6) answered by RequestResponse (op 7) with a requestStatus
(`result`, `code`, `comment`); Event (op 5) to clients whose eventSubscriptions ask for it.
Only the requests study-overlay sends are served; any other answers 204 UnknownRequestType,
as OBS does.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from .threaded import ThreadedApp

SCENES_SUB = 1 << 2  # EventSubscription::Scenes
CHAPTER_REQUESTS = ("CreateRecordChapter",)  # new in 5.5 (OBS 30.2)
BASE_REQUESTS = ("GetVersion", "GetCurrentProgramScene", "SetCurrentProgramScene", "GetStudioModeEnabled",
                 "BroadcastCustomEvent", "GetRecordStatus", "GetSceneList", "GetInputKindList")
# GetInputKindList as an OBS built with the browser plugin answers it (unversioned: false).
INPUT_KINDS = ["image_source", "color_source_v3", "text_ft2_source_v2", "browser_source", "ffmpeg_source"]


class FakeObs(ThreadedApp):
    thread_name = "fake-obs"

    def __init__(self, scenes: list[str], password: str = "stand-in-secret", *, chapters: bool = True,
                 version: str = "30.2.3", ws_version: str = "5.5.4") -> None:
        super().__init__()
        self.scenes, self.password = scenes, password
        self.chapters_supported = chapters
        self.version, self.ws_version = version, ws_version
        self.program = scenes[0]
        self.recording = False
        self.format_has_chapters = True  # Hybrid MP4; plain MP4/MKV has none
        self.chapters: list[str] = []
        self.requests: list[str] = []
        self._clients: list[tuple[web.WebSocketResponse, int]] = []

    def build(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/", self._ws)])
        return app

    async def closing(self) -> None:
        for ws, _ in list(self._clients):
            await ws.close()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("obswebsocket.json",))
        await ws.prepare(request)
        salt, challenge = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        await ws.send_json({"op": 0, "d": {"obsWebSocketVersion": self.ws_version, "rpcVersion": 1,
                                           "authentication": {"challenge": challenge, "salt": salt}}})
        identify = await ws.receive_json()
        secret = base64.b64encode(hashlib.sha256((self.password + salt).encode()).digest())
        expected = base64.b64encode(hashlib.sha256(secret + challenge.encode()).digest()).decode()
        if identify.get("op") != 1 or identify["d"].get("authentication") != expected:
            await ws.close(code=4009, message=b"Authentication failed.")
            return ws
        subs = int(identify["d"].get("eventSubscriptions", 0))
        await ws.send_json({"op": 2, "d": {"negotiatedRpcVersion": 1}})
        self._clients.append((ws, subs))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                data = message.json()
                if data.get("op") == 6:
                    await ws.send_json({"op": 7, "d": await self._request(data["d"])})
        finally:
            self._clients = [(w, s) for w, s in self._clients if w is not ws]
        return ws

    async def _request(self, d: dict[str, Any]) -> dict[str, Any]:
        kind, rid, data = d["requestType"], d["requestId"], d.get("requestData") or {}
        self.requests.append(kind)

        def ok(response: dict[str, Any] | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {"requestType": kind, "requestId": rid,
                                   "requestStatus": {"result": True, "code": 100}}
            if response is not None:
                out["responseData"] = response
            return out

        def fail(code: int, comment: str) -> dict[str, Any]:
            return {"requestType": kind, "requestId": rid,
                    "requestStatus": {"result": False, "code": code, "comment": comment}}

        available = [*BASE_REQUESTS, *(CHAPTER_REQUESTS if self.chapters_supported else ())]
        if kind not in available:
            return fail(204, f"Your request type is not valid: {kind}")
        if kind == "GetVersion":
            return ok({"obsVersion": self.version, "obsWebSocketVersion": self.ws_version, "rpcVersion": 1,
                       "availableRequests": available, "supportedImageFormats": ["png"],
                       "platform": "ubuntu", "platformDescription": "Debian GNU/Linux 12"})
        if kind == "GetCurrentProgramScene":
            return ok({"currentProgramSceneName": self.program, "sceneName": self.program,
                       "currentProgramSceneUuid": "", "sceneUuid": ""})
        if kind == "SetCurrentProgramScene":
            if data.get("sceneName") not in self.scenes:
                return fail(600, f"No source was found by the name of `{data.get('sceneName')}`.")
            self.program = data["sceneName"]
            await self._event("CurrentProgramSceneChanged", SCENES_SUB,
                              {"sceneName": self.program, "sceneUuid": ""})
            return ok()
        if kind == "GetInputKindList":
            return ok({"inputKinds": INPUT_KINDS})
        if kind == "GetStudioModeEnabled":
            return ok({"studioModeEnabled": False})
        if kind == "GetRecordStatus":
            return ok({"outputActive": self.recording, "outputPaused": False,
                       "outputTimecode": "00:00:00.000", "outputDuration": 0, "outputBytes": 0})
        if kind == "CreateRecordChapter":
            if not self.recording:
                return fail(501, "The output is not running.")
            if not self.format_has_chapters:
                return fail(702, "The current recording does not support chapter markers.")
            self.chapters.append(str(data.get("chapterName", "")))
            return ok()
        return ok()  # BroadcastCustomEvent, GetSceneList

    async def _event(self, kind: str, intent: int, data: dict[str, Any]) -> None:
        for ws, subs in list(self._clients):
            if subs & intent:
                await ws.send_json({"op": 5, "d": {"eventType": kind, "eventIntent": intent,
                                                   "eventData": data}})
