"""The command line: `serve`, `check-config`, and the commands that talk to a running server.

Client commands import neither aiohttp nor the server: a hotkey tool runs them often.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ...config import ConfigError, load_config
from ...core import sound
from ...core.commands import COMMANDS, CUE_ARG, DURATION_ARG, NOTE_ARG, STEP_ARG
from ...core.settings import Config
from ...i18n import language

DEFAULT_CONFIG = "config.yaml"


def config_places() -> list[Path]:
    """Where a config is looked for when none is named: here, then the user's config folder
    (~/.config/study-overlay on Linux, as each platform has it elsewhere)."""
    from .setup_files import user_config_dir

    return [Path(DEFAULT_CONFIG), user_config_dir() / DEFAULT_CONFIG]


def no_config() -> str:
    here, user = config_places()
    return f"no config file found (looked for {here} here and {user})"


def _no_config(args: argparse.Namespace) -> bool:
    """None was named and none was found: the defaults apply."""
    return not args.config_given and not Path(args.config).exists()


def find_config(named: str | None) -> str:
    """--config, else $STUDY_OVERLAY_CONFIG, else the first of config_places() that exists."""
    named = named or os.environ.get("STUDY_OVERLAY_CONFIG")
    if named:
        return named
    return str(next((p for p in config_places() if p.exists()), DEFAULT_CONFIG))


def _port(text: str) -> int:
    if not text.isdecimal() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="study-overlay", description="Study-session overlays and controls for OBS."
    )
    p.add_argument("--config", default=None,
                   help="config file (default: $STUDY_OVERLAY_CONFIG, ./config.yaml, then "
                        "~/.config/study-overlay/config.yaml)")
    p.add_argument("--url", default=None, help="server address, for the commands that talk to it")
    # Both are accepted after the command too: `study-overlay next --config x.yaml`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the service", parents=[common])
    serve.add_argument("--host", help="address to bind (default: server.host)")
    serve.add_argument("--port", type=_port, help="port (default: server.port)")
    serve.add_argument("--db", type=Path, help="SQLite file (default: storage.path)")
    sub.add_parser("init", help="write a first config.yaml into your config folder (never overwrites)")
    sub.add_parser("where", help="the config, the database and the address in use", parents=[common])
    check = sub.add_parser("check-config", help="validate a config file and exit", parents=[common])
    check.add_argument("path", nargs="?", help="file to check (default: --config)")

    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_text, parents=[common])
        c.add_argument("--url", default=argparse.SUPPRESS,
                       help="server address (default: from the config)")
        return c

    for spec in COMMANDS.values():  # every command of the registry, with its argument
        c = client(spec.name, spec.help)
        if spec.arg == NOTE_ARG:
            c.add_argument(NOTE_ARG, nargs="*", help="what went wrong")
        elif spec.arg == STEP_ARG:
            c.add_argument(STEP_ARG, help="step id or 1-based number")
        elif spec.arg == DURATION_ARG:
            c.add_argument(DURATION_ARG, nargs="?", help="how much: 5m (the default), 90s, 1h")
        elif spec.arg == CUE_ARG:
            c.add_argument(CUE_ARG, choices=sound.CUES, help="which sound")
    client("status", "show the session").add_argument("--json", action="store_true")
    obs = sub.add_parser("obs", help="OBS tools", parents=[common])
    obs_sub = obs.add_subparsers(dest="obs_cmd", required=True, metavar="OBS_COMMAND")
    setup = obs_sub.add_parser("setup", help="create the scenes in scenes/ and their overlay sources in OBS",
                               parents=[common])
    setup.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    setup.add_argument("--scenes", type=Path, help="scenes folder (default: scenes/ beside the config)")
    twitch = sub.add_parser("twitch", help="the Twitch chat login", parents=[common])
    twitch_sub = twitch.add_subparsers(dest="twitch_cmd", required=True, metavar="TWITCH_COMMAND")
    for name, text in (("login", "log in with a code shown here (works while serve runs)"),
                       ("logout", "forget the login, here and on Twitch"), ("status", "who is logged in")):
        t = twitch_sub.add_parser(name, help=text, parents=[common])
        t.add_argument("--url", default=argparse.SUPPRESS, help="server address (default: from the config)")
        t.add_argument("--db", type=Path, help="SQLite file (default: storage.path)")
    export = sub.add_parser("export", help="print a session as md, csv or json", parents=[common])
    which = export.add_mutually_exclusive_group()
    which.add_argument("--session", type=int, metavar="N", help="session number")
    which.add_argument("--last", action="store_true", help="the latest session (the default)")
    export.add_argument("--format", choices=("md", "csv", "json", "recap"), default="md",
                        help="recap: the short recap to post, then the long one in Markdown")
    export.add_argument("--db", type=Path, help="SQLite file (default: storage.path)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "check-config" and args.path:
        args.config = args.path
    args.config_given = args.config is not None or bool(os.environ.get("STUDY_OVERLAY_CONFIG"))
    args.config = find_config(args.config)
    try:
        return _run(args)
    except ConfigError as exc:  # every command: one line naming the key, status 2
        if _no_config(args):
            db = ", or the database with --db FILE" if args.cmd == "export" else ""
            print(f"config error: {no_config()}; name one with --config FILE{db}", file=sys.stderr)
        else:
            print(f"config error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.cmd in ("init", "where"):
        from . import setup_files

        if args.cmd == "init":
            return setup_files.init()
        return setup_files.where(args.config, not _no_config(args))
    if args.cmd == "check-config":
        return _check_config(args.config)
    if args.cmd == "export":
        return _export(args)
    if args.cmd == "obs":
        return _obs_setup(args)
    if args.cmd == "twitch":
        return _twitch(args)
    if args.cmd == "serve":
        from ...app import serve  # the server stack loads only here, not for a quick `next`

        return serve(args.config, host=args.host, port=args.port, db=args.db)
    return _client(args)


def _check_config(path: str) -> int:
    config = load_config(path)
    lang = language(config.language)
    print(f"{path}: " + lang.plural("OK (%(num)s step)", "OK (%(num)s steps)", len(config.steps)))
    return 0


def _obs_setup(args: argparse.Namespace) -> int:
    from ..obs.setup import run_setup, scenes_dir  # obsws-python loads only for this command

    config = load_config(args.config)
    scenes = args.scenes or scenes_dir(Path(args.config))
    obs = config.obs
    return run_setup(host=obs.host, port=obs.port, password=obs.password,
                     base_url=config.server.base_url, scenes_dir=scenes, dry_run=args.dry_run,
                     out=sys.stdout)


def _twitch(args: argparse.Namespace) -> int:
    from . import client, twitch  # aiohttp loads only for this command

    config = load_config(args.config)
    target = client.target_from(args.config, getattr(args, "url", None))
    return twitch.run(args.twitch_cmd, config, args.db, target, language(config.language))


def _export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ...storage import history
    from ...storage.store import StorageError
    from . import export

    if args.db is not None and _no_config(args):
        config = Config(steps=())  # the file alone: steps by number, times in local time
    else:
        config = load_config(args.config)
    lang = language(config.language)
    if args.session is not None and not 1 <= args.session <= 10**9:
        print("export: " + lang("no session %(number)s", number=args.session), file=sys.stderr)
        return 1
    try:
        db = history.open_readonly(args.db or config.storage_path)
    except StorageError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    try:
        number = args.session
        if number is None:
            row = db.execute("SELECT max(number) FROM sessions").fetchone()
            number = row[0] if row else None
        detail = None if number is None else history.session_detail(
            db, config, number, datetime.now(UTC)
        )
    finally:
        db.close()
    if detail is None:
        missing = lang("no session %(number)s", number=number) if number else lang("no session recorded yet")
        print("export: " + missing, file=sys.stderr)
        return 1
    tz = config.timezone
    if args.format == "recap":
        from ...runtime import recap

        data = recap.gather(args.db or config.storage_path, config, detail["number"], datetime.now(UTC))
        assert data is not None  # the session was just read
        sys.stdout.write(recap.short(data, lang) + "\n\n" + recap.markdown(data, tz, lang))
        return 0
    text = {"md": lambda: export.to_markdown(detail, tz, lang), "csv": lambda: export.to_csv(detail, tz),
            "json": lambda: export.to_json(detail)}[args.format]()
    sys.stdout.write(text)
    return 0


def _client(args: argparse.Namespace) -> int:
    from . import client

    target = client.target_from(args.config, args.url, no_config() if _no_config(args) else None)
    body: dict[str, Any] | None
    if args.cmd == "status":
        body = None
    else:
        body = {"command": args.cmd}
        arg = COMMANDS[args.cmd].arg
        if arg == NOTE_ARG:
            body[NOTE_ARG] = " ".join(args.note)
        elif arg == STEP_ARG:
            body[STEP_ARG] = args.step
        elif arg == DURATION_ARG and args.duration is not None:
            body[DURATION_ARG] = args.duration
        elif arg == CUE_ARG:
            body[CUE_ARG] = args.cue
    try:
        status, data = client.call(target, body)
    except client.Unreachable as exc:
        print(f"study-overlay: {exc}", file=sys.stderr)
        return 2
    lang = language(target.lang)
    if status != 200:  # the server words a refusal in English, the catalogs' source
        reason = lang(str(data.get("error", status)))
        print(f"{args.cmd}: " + lang("refused: %(reason)s", reason=reason), file=sys.stderr)
        if status == 401 and _no_config(args):
            print(f"study-overlay: {no_config()}, so no token was sent; name it with --config FILE",
                  file=sys.stderr)
        return 1
    if args.cmd == "status" and args.json:
        print(json.dumps(data, indent=2))
    else:
        print(client.summary(data, args.cmd, lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
