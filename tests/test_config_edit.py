"""config.yaml written by the setup page (config/edit.py): comments and layout kept, the rules of start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from overlay.config import ConfigError, edit, parse_config

from .conftest import ROOT

SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")


def comments(text: str) -> list[str]:
    """Every comment in the file, whole-line or after a value, in order."""
    return [m.group(0).strip() for m in re.finditer(r"#.*", text)]


def form_of(text: str) -> list[edit.StepForm]:
    config = parse_config(text, base_dir=ROOT)
    return [edit.StepForm(**step) for step in edit.steps_of(config)]


def routine(steps: list[edit.StepForm], at: str = "2027-03-01T18:00:00+01:00", units: int | None = 8,
            ) -> edit.RoutineForm:
    return edit.RoutineForm(tuple(steps), at, "Course finished", units, "lesson")


def test_an_edited_routine_keeps_every_comment_and_reads_back_as_the_form_said() -> None:
    steps = form_of(SHIPPED)
    steps.insert(0, edit.StepForm(None, "Flashcards: warm-up", "10m", "", True))
    steps[2] = edit.StepForm("lecture", "Lecture, second course", "50m", "Lecture", False)
    del steps[-1]  # the project step, which carries the deadline's comment after it
    text = edit.edit_routine(SHIPPED, routine(steps, "2027-04-01T18:00:00+02:00", 10))
    assert comments(text) == comments(SHIPPED)
    config = parse_config(text, base_dir=ROOT)
    assert [s.id for s in config.steps] == ["flashcards-warm-up", "review", "lecture", "practice", "reading",
                                           "questionnaire"]
    assert config.steps[0].title == "Flashcards: warm-up" and config.steps[0].focus is not None
    assert config.steps[2].title == "Lecture, second course"
    assert config.steps[2].target is not None and config.steps[2].target.total_seconds() == 3000
    assert config.deadline is not None and config.deadline.at.isoformat() == "2027-04-01T18:00:00+02:00"
    assert config.goal is not None and config.goal.units == 10
    # Untouched steps are byte for byte as they were, their comments where they were.
    assert "    reviews_previous: true   # shows the previous session's failure notes while current\n" in text


def test_an_unchanged_form_writes_the_file_back_as_it_was() -> None:
    assert edit.edit_routine(SHIPPED, routine(form_of(SHIPPED))) == SHIPPED


def test_the_obs_form_keeps_the_password_unless_one_is_typed() -> None:
    with_password = SHIPPED.replace('password: ""  ', 'password: "s3cret"')
    kept = edit.edit_obs(with_password, edit.ObsForm(True, "127.0.0.1", 4456, None))
    config = parse_config(kept, base_dir=ROOT)
    assert (config.obs.enabled, config.obs.port, config.obs.password) == (True, 4456, "s3cret")
    assert comments(kept) == comments(SHIPPED)
    changed = parse_config(edit.edit_obs(kept, edit.ObsForm(True, "localhost", 4455, "n3w")), base_dir=ROOT)
    assert (changed.obs.host, changed.obs.password) == ("localhost", "n3w")


def test_no_deadline_and_no_goal_take_their_keys_out_and_keep_the_comments_after_them() -> None:
    text = edit.edit_routine(SHIPPED, routine(form_of(SHIPPED), at="", units=None))
    config = parse_config(text, base_dir=ROOT)
    assert config.deadline is None and config.goal is None
    assert "# Days in /history (failures per day, streaks) are counted in this time zone." in text
    assert not re.search(r"^(deadline|goal):", text, re.MULTILINE)


def test_new_ids_come_from_titles_and_never_collide() -> None:
    taken = {"review"}
    assert edit.new_id("Review", taken) == "review-2"
    assert edit.new_id("Watch the lecture!", taken) == "watch-the-lecture"
    assert edit.new_id("日本語", taken) == "step"


@pytest.mark.parametrize(("change", "key"), [
    (lambda s: [edit.StepForm(s[0].id, s[0].title, "soon", "", False), *s[1:]], "steps[0].target"),
    (lambda s: [edit.StepForm(s[0].id, "   ", "", "", False), *s[1:]], "steps[0].title"),
])
def test_a_bad_value_is_refused_naming_its_key_and_the_file_is_left_alone(
    tmp_path: Path, change: object, key: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    text = edit.edit_routine(SHIPPED, routine(change(form_of(SHIPPED))))  # type: ignore[operator]
    with pytest.raises(ConfigError, match=re.escape(key)):
        edit.save(path, edit.version(SHIPPED), lambda _: text)
    assert path.read_text(encoding="utf-8") == SHIPPED


def test_a_deadline_without_a_time_zone_is_refused_as_at_start(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    text = edit.edit_routine(SHIPPED, routine(form_of(SHIPPED), at="2027-03-01T18:00"))
    with pytest.raises(ConfigError, match=r"deadline\.at .*needs a time zone"):
        edit.save(path, edit.version(SHIPPED), lambda _: text)
    assert path.read_text(encoding="utf-8") == SHIPPED


def test_a_file_edited_by_hand_since_the_page_read_it_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    seen = edit.version(SHIPPED)
    by_hand = SHIPPED.replace("label: Course finished", "label: Exam day")
    path.write_text(by_hand, encoding="utf-8")
    with pytest.raises(edit.Stale):
        edit.save(path, seen, lambda current: edit.edit_routine(current, routine(form_of(SHIPPED), units=3)))
    assert path.read_text(encoding="utf-8") == by_hand


def test_a_save_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    path.chmod(0o600)  # it may hold the OBS password
    text = edit.edit_obs(SHIPPED, edit.ObsForm(True, "127.0.0.1", 4455, "x"))
    config, written = edit.save(path, edit.version(SHIPPED), lambda _: text)
    assert written == text
    assert config.obs.password == "x" and config.source == path
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]  # no temporary file left behind
