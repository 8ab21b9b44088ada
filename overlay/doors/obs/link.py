"""Asyncio-facing link to OBS over obs-websocket 5, built on obsws-python's blocking clients.

One owner thread holds the request client and does every request; obsws-python's event
thread only forwards events. The asyncio side never waits on OBS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import obsws_python
from obsws_python.baseclient import ObsClient
from obsws_python.error import OBSSDKError, OBSSDKRequestError, OBSSDKTimeoutError
from websocket import (
    WebSocketAddressException,
    WebSocketBadStatusException,
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketTimeoutException,
)

from ...i18n import N_, Said, words_of

log = logging.getLogger(__name__)

# "program" sends SetCurrentProgramScene: in studio mode OBS runs the current transition and
# (by default) swaps the old program into the preview, as its Transition button does, in one
# request. "preview" only sets the preview while studio mode is on, the program otherwise.
STUDIO_MODES = ("program", "preview")
# OBS emits CurrentProgramSceneChanged when the transition ends, and only for the last of
# overlapping transitions; past this we stop waiting for the echo of our own switch.
ECHO_TIMEOUT = 5.0
# Disabling studio mode emits two program-scene changes within a millisecond.
FOLLOW_DEBOUNCE = 0.1
STOP_WAIT = 1.0
_WORKER_CHECK = 0.25


def quiet_obsws() -> None:
    """obsws-python logs the password at INFO and a traceback per refused connection."""
    logging.getLogger("obsws_python").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class LinkStatus:
    state: str  # "off" | "connecting" | "connected" | "error"
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"state": self.state, "reason": self.reason, "words": words_of(self.reason)}


class LinkError(Exception):
    """A link failure with its human reason already worked out (a Said, for the dock's language)."""

    def __init__(self, reason: str, kind: str = "other") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # auth | unreachable | foreign | frozen | other: what the setup page hints


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, WebSocketTimeoutException | OBSSDKTimeoutError | TimeoutError):
        return "frozen"
    if isinstance(exc, WebSocketBadStatusException | ValueError):
        return "foreign"
    if isinstance(exc, OSError | WebSocketAddressException | WebSocketConnectionClosedException):
        return "unreachable"
    return "other"


def describe_error(exc: BaseException, host: str, port: int) -> str:  # a Said where we word it
    """One line a streamer can act on, for any error obsws-python or websocket-client raises."""
    where = f"{host}:{port}"
    if isinstance(exc, LinkError):
        return exc.reason
    if isinstance(exc, ConnectionRefusedError):
        return Said(N_("OBS not reachable at %(where)s (connection refused)"), where=where)
    if isinstance(exc, WebSocketTimeoutException | OBSSDKTimeoutError | TimeoutError):
        return Said(N_("OBS not answering (frozen?)"))
    if isinstance(exc, WebSocketBadStatusException):
        return Said(N_("%(where)s is not an OBS WebSocket server (HTTP %(status)s)"), where=where,
                    status=exc.status_code)
    if isinstance(exc, WebSocketConnectionClosedException | ConnectionError):
        return Said(N_("OBS closed the connection"))
    if isinstance(exc, socket.gaierror | WebSocketAddressException):
        return Said(N_("cannot resolve OBS host %(host)s"), host=repr(host))
    if isinstance(exc, OSError):
        return Said(N_("OBS not reachable at %(where)s (%(error)s)"), where=where, error=exc.strerror or exc)
    if isinstance(exc, ValueError):
        return Said(N_("unexpected reply from %(where)s (is it obs-websocket 5?)"), where=where)
    if isinstance(exc, OBSSDKError | WebSocketException):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _abort_ws(ws: Any) -> None:
    # shutdown(), unlike close(), wakes a thread blocked in recv() on the same socket.
    sock = getattr(ws, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def close_client(client: Any) -> None:
    """Close a ReqClient or EventClient without a close handshake (OBS may be frozen)."""
    ws = client.base_client.ws
    _abort_ws(ws)
    worker = getattr(client, "worker", None)
    if worker is not None:
        worker.join(1.0)
    ws.shutdown()


def _close_abandoned(exc: BaseException) -> dict[str, Any] | None:
    """Close the socket of a client whose constructor raised; return the server's hello."""
    # obsws-python drops the half-open client, leaving its socket to the garbage collector.
    hello: dict[str, Any] | None = None
    tb = exc.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        base = owner if isinstance(owner, ObsClient) else getattr(owner, "base_client", None)
        if isinstance(base, ObsClient) and hasattr(base, "ws"):
            hello = getattr(base, "server_hello", None) or hello
            _abort_ws(base.ws)
            base.ws.shutdown()
        tb = tb.tb_next
    return hello


def connect(kind: type[Any], *, host: str, port: int, password: str, timeout: float,
            **extra: Any) -> Any:
    """Build an obsws-python client; every failure becomes a LinkError with a clear reason."""
    quiet_obsws()
    try:
        # Explicit host/port/password: without them obsws-python reads a config.toml.
        return kind(host=host, port=port, password=password, timeout=timeout, **extra)
    except Exception as exc:
        hello = _close_abandoned(exc)
        needs_auth = bool(hello and "authentication" in hello.get("d", {}))
        if isinstance(exc, OBSSDKError) and needs_auth:
            if not password:
                raise LinkError(Said(N_("authentication failed: OBS requires a password")), "auth") from exc
            raise LinkError(Said(N_("authentication failed: wrong password")), "auth") from exc
        raise LinkError(describe_error(exc, host, port), error_kind(exc)) from exc


@dataclass
class _Inflight:
    scene: str
    deadline: float


class _EventSink:
    """Callbacks for one EventClient; obsws-python matches them by __name__."""

    def __init__(self, link: ObsLink) -> None:
        self.link = link
        self.active = True
        self.exit_started = False

    def on_current_program_scene_changed(self, data: Any) -> None:
        # An exception here would silently kill obsws-python's event thread.
        try:
            if self.active:
                self.link._program_scene_event(str(getattr(data, "scene_name", "")))
        except Exception:
            log.debug("OBS event handling failed", exc_info=True)

    def on_exit_started(self, data: Any) -> None:
        self.exit_started = True
        self.link._wake.set()


@dataclass
class _Conn:
    req: Any
    events: Any
    sink: _EventSink
    applied_gen: int = -1


class ObsLink:
    """Keeps OBS on the wanted scene and reports scene changes made in OBS; never blocks."""

    def __init__(self, *, host: str, port: int, password: str,
                 on_status: Callable[[LinkStatus], None],
                 on_scene_changed: Callable[[str], None],
                 studio_mode: str = "program",
                 probe_interval: float = 2.0, request_timeout: float = 3.0,
                 backoff_initial: float = 0.5, backoff_max: float = 10.0,
                 on_switched: Callable[[str], None] | None = None) -> None:
        if studio_mode not in STUDIO_MODES:
            raise ValueError(f"studio_mode must be one of {STUDIO_MODES}, not {studio_mode!r}")
        quiet_obsws()
        self._host, self._port, self._password = host, port, password
        self._on_status, self._on_scene_changed = on_status, on_scene_changed
        self._on_switched = on_switched
        self._studio_mode = studio_mode
        self._probe_interval, self._timeout = probe_interval, request_timeout
        self._backoff_initial, self._backoff_max = backoff_initial, backoff_max
        self.status = LinkStatus("off")
        self.obs_version = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()  # guards the fields below, shared with both threads
        self._wish: str | None = None
        self._wish_gen = 0
        self._inflight: _Inflight | None = None
        self._custom: deque[dict[str, object]] = deque(maxlen=32)
        self._chapters: deque[str] = deque(maxlen=32)
        self._chapters_ok = False  # this OBS has CreateRecordChapter (OBS 30.2+)
        self._said: set[str] = set()  # what about chapters was logged already (once each)
        self._conn: _Conn | None = None
        self._connected = False
        self._reported = LinkStatus("off")
        self._follow: str | None = None
        self._follow_handle: asyncio.TimerHandle | None = None

    # -- asyncio side ------------------------------------------------------------------

    async def start(self) -> None:
        if self._thread is not None:
            return
        if self._stopping.is_set():
            raise RuntimeError("an ObsLink cannot be restarted; make a new one")
        self._loop = asyncio.get_running_loop()
        self._reported = LinkStatus("connecting")
        self._publish(self._reported)
        self._thread = threading.Thread(target=self._run, name="obs-link", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            _abort_ws(conn.req.base_client.ws)
            _abort_ws(conn.events.base_client.ws)
        deadline = time.monotonic() + STOP_WAIT
        while thread.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if thread.is_alive():
            # Only a connect to a frozen OBS can hold it; it exits after request_timeout.
            log.info("OBS link: still waiting on a connect attempt; it will exit on its own")
        if self._follow_handle is not None:
            self._follow_handle.cancel()
            self._follow_handle = None
        self._publish(LinkStatus("off"))

    def want_scene(self, scene: str | None) -> None:
        """Only the latest wish matters; repeating the current wish does not switch again."""
        with self._lock:
            if scene == self._wish:
                return
            self._wish = scene
            self._wish_gen += 1
        self._wake.set()

    def emit_custom_event(self, data: dict[str, object]) -> None:
        """Fire and forget a CustomEvent to every obs-websocket client; dropped while offline."""
        json.dumps(data)  # a bad payload is the caller's bug: raise here, not in the link
        if not self._connected:
            return
        self._custom.append(data)
        self._wake.set()

    def add_chapter(self, name: str) -> None:
        """A chapter in the recording under way (OBS 30.2+, a format with chapters: Hybrid MP4);
        skipped, with one log line, where OBS has none; dropped while offline or not recording."""
        if self._connected:
            self._chapters.append(name)
            self._wake.set()

    def _publish(self, status: LinkStatus) -> None:
        if self._stopping.is_set() and status.state != "off":
            return
        if status == self.status:
            return
        self.status = status
        if status.state == "connected":
            log.info("OBS link: connected to %s:%s%s", self._host, self._port,
                     f" (OBS {self.obs_version})" if self.obs_version else "")
        elif status.state == "error":
            log.warning("OBS link: %s; retrying", status.reason)
        else:
            log.info("OBS link: %s", status.state)
        self._on_status(status)

    def _foreign_scene(self, scene: str) -> None:
        self._follow = scene
        if self._follow_handle is not None:
            self._follow_handle.cancel()
        assert self._loop is not None
        self._follow_handle = self._loop.call_later(FOLLOW_DEBOUNCE, self._deliver_follow)

    def _deliver_follow(self) -> None:
        self._follow_handle = None
        if self._follow is not None and not self._stopping.is_set():
            self._on_scene_changed(self._follow)

    def _switched(self, scene: str) -> None:
        if self._on_switched is not None and not self._stopping.is_set():
            self._on_switched(scene)

    def _call_in_loop(self, fn: Callable[..., None], *args: Any) -> None:
        if self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under an abandoned thread
            self._loop.call_soon_threadsafe(fn, *args)

    # -- event thread ------------------------------------------------------------------

    def _program_scene_event(self, scene: str) -> None:
        with self._lock:
            ours = self._inflight is not None and self._inflight.scene == scene
            # Only the last of overlapping transitions is reported, so any change ends ours.
            self._inflight = None
        self._wake.set()
        if not ours:
            self._call_in_loop(self._foreign_scene, scene)

    # -- owner thread: the only user of the request client -----------------------------

    def _report(self, state: str, reason: str = "") -> None:
        status = LinkStatus(state, reason)
        self._connected = state == "connected"
        if status != self._reported:
            self._reported = status
            self._call_in_loop(self._publish, status)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                conn = self._open()
            except Exception as exc:
                self._report("error", describe_error(exc, self._host, self._port))
                failures += 1
                self._stopping.wait(self._backoff(failures))
                continue
            opened = time.monotonic()
            try:
                self._serve(conn)
            except Exception as exc:
                if not self._stopping.is_set():
                    self._report("error", describe_error(exc, self._host, self._port))
            finally:
                self._close(conn)
            # A link that dies right after connecting keeps backing off instead of flapping.
            stable = time.monotonic() - opened > self._backoff_max
            failures = 1 if stable else failures + 1
            self._stopping.wait(self._backoff(failures))

    def _backoff(self, failures: int) -> float:
        ceiling = min(self._backoff_max, self._backoff_initial * (1 << min(failures - 1, 20)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _open(self) -> _Conn:
        sink = _EventSink(self)
        subs = obsws_python.Subs.GENERAL | obsws_python.Subs.SCENES
        events = self._connect(obsws_python.EventClient, subs=subs)
        events.callback.register([sink.on_current_program_scene_changed, sink.on_exit_started])
        try:
            req = self._connect(obsws_python.ReqClient)
        except BaseException:
            sink.active = False
            close_client(events)
            raise
        conn = _Conn(req, events, sink)
        with self._lock:
            self._conn = conn
            self._inflight = None
        return conn

    def _connect(self, kind: type[Any], **extra: Any) -> Any:
        return connect(kind, host=self._host, port=self._port, password=self._password,
                       timeout=self._timeout, **extra)

    def _close(self, conn: _Conn) -> None:
        conn.sink.active = False
        with self._lock:
            self._conn = None
            self._inflight = None
        self._custom.clear()
        self._chapters.clear()
        self._connected = False
        close_client(conn.req)
        close_client(conn.events)

    def _serve(self, conn: _Conn) -> None:
        version = conn.req.send("GetVersion", raw=True)
        self.obs_version = f"{version['obsVersion']}, obs-websocket {version['obsWebSocketVersion']}"
        self._chapters_ok = "CreateRecordChapter" in version.get("availableRequests", ())
        self._report("connected")
        next_probe = time.monotonic() + self._probe_interval
        while not self._stopping.is_set():
            if conn.sink.exit_started:
                raise LinkError(Said(N_("OBS is shutting down")))
            if not conn.events.worker.is_alive():
                raise LinkError(Said(N_("OBS closed the connection")))
            switched = self._sync_scene(conn)
            if self._flush_custom(conn) | self._flush_chapters(conn) or switched:
                next_probe = time.monotonic() + self._probe_interval
            elif time.monotonic() >= next_probe:
                conn.req.send("GetVersion", raw=True)
                next_probe = time.monotonic() + self._probe_interval
            wait = min(_WORKER_CHECK, max(0.0, next_probe - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()

    def _flush_custom(self, conn: _Conn) -> bool:
        sent = False
        while self._custom:
            conn.req.send("BroadcastCustomEvent", {"eventData": self._custom.popleft()})
            sent = True
        return sent

    def _flush_chapters(self, conn: _Conn) -> bool:
        sent = False
        while self._chapters:
            name = self._chapters.popleft()
            if not self._chapters_ok:
                self._once("old", "OBS link: OBS %s has no recording chapters (CreateRecordChapter needs "
                                  "OBS 30.2 or later); chapters skipped", self.obs_version)
                continue
            if not conn.req.send("GetRecordStatus", raw=True)["outputActive"]:
                continue  # no recording, no chapter
            try:
                conn.req.send("CreateRecordChapter", {"chapterName": name})
                sent = True
            except OBSSDKRequestError as exc:
                self._once(f"format {exc.code}", "OBS link: no chapter %r: %s (chapters need the Hybrid "
                                                 "MP4 recording format)", name, exc)
        return sent

    def _once(self, key: str, message: str, *args: object) -> None:
        if key not in self._said:
            self._said.add(key)
            log.info(message, *args)

    def _sync_scene(self, conn: _Conn) -> bool:
        """Apply the latest wish unless it is applied or our previous switch is in flight."""
        with self._lock:
            wish, gen, inflight = self._wish, self._wish_gen, self._inflight
            if inflight is not None and inflight.deadline <= time.monotonic():
                self._inflight = inflight = None
        if wish is None or gen == conn.applied_gen or inflight is not None:
            return False
        try:
            self._switch(conn, wish)
        except OBSSDKRequestError as exc:
            with self._lock:
                self._inflight = None
            log.warning("OBS link: cannot switch to scene %r (%s); will retry after reconnect",
                        wish, exc)
        conn.applied_gen = gen
        return True

    def _switch(self, conn: _Conn, scene: str) -> None:
        req = conn.req
        if self._studio_mode == "preview":
            if req.send("GetStudioModeEnabled", raw=True)["studioModeEnabled"]:
                current = req.send("GetCurrentPreviewScene", raw=True)
                if current["currentPreviewSceneName"] != scene:
                    req.send("SetCurrentPreviewScene", {"sceneName": scene})
                    self._call_in_loop(self._switched, scene)
                return
        current = req.send("GetCurrentProgramScene", raw=True)["currentProgramSceneName"]
        if current == scene:
            return  # OBS emits no event for a switch to the current scene: expect no echo
        with self._lock:
            # Set before sending: the echo can beat the reply to this thread.
            self._inflight = _Inflight(scene, time.monotonic() + ECHO_TIMEOUT)
        req.send("SetCurrentProgramScene", {"sceneName": scene})
        self._call_in_loop(self._switched, scene)
