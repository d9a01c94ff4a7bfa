"""The review service on a real store (SQLite and PostgreSQL): users, claims, saves, the
recheck after a save, unmapped rows and label variants, the audit log.

PostgreSQL runs need $GONGKAI_TEST_PG_URL (scripts/start_test_postgres.sh); see tests/pg.py.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from review_samples import (
    RULE_FIELDS,
    UNKNOWN_LABEL,
    UNRECOGNISED_FIELD,
    WRONG_CELL,
    broken_result,
    service_with_broken_report,
)

from gongkai.models.review import QueueFilter, User
from gongkai.review.errors import (
    AuthenticationFailed,
    InvalidValue,
    ItemNotFound,
    ItemUnavailable,
    PermissionDenied,
    VersionConflict,
)
from gongkai.review.service import ReviewService
from gongkai.store.operational import OperationalStore

PASSWORD = "correct horse battery"


@pytest.fixture
def service(db_url: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewService]:
    with service_with_broken_report(db_url, tmp_path / "analytics.duckdb",
                                    tmp_path_factory.getbasetemp() / "review-samples") as svc:
        yield svc


@pytest.fixture
def wang(service: ReviewService) -> User:
    return service.add_user(None, "wang", "reviewer", PASSWORD)


@pytest.fixture
def li(service: ReviewService) -> User:
    return service.add_user(None, "li", "reviewer", PASSWORD)


@pytest.fixture
def boss(service: ReviewService) -> User:
    return service.add_user(None, "boss", "admin", PASSWORD)


def _item_of(service: ReviewService, actor: User, field_id: str) -> int:
    return next(i.id for i in service.queue(actor, QueueFilter()) if i.field_id == field_id)


def _unmapped_item(service: ReviewService, actor: User) -> int:
    return next(i.id for i in service.queue(actor, QueueFilter()) if i.kind == "unmapped")


def _actions(service: ReviewService, admin: User) -> list[str]:
    return [a.action for a in reversed(service.audit(admin, limit=1000))]


# ---------------------------------------------------------------------------------------
# The queue a saved result makes
# ---------------------------------------------------------------------------------------
def test_saving_enqueues_doubtful_fields_and_unmapped_rows(service: ReviewService, wang: User) -> None:
    items = service.queue(wang, QueueFilter())
    assert sorted(i.field_id for i in items if i.kind == "field") == sorted(
        [WRONG_CELL, *RULE_FIELDS, UNRECOGNISED_FIELD]
    )
    (row,) = [i for i in items if i.kind == "unmapped"]
    assert row.field_id is None and row.raw == "0"
    assert row.reasons == [f"its row was not recognised: {UNKNOWN_LABEL}"]
    (lost,) = [i for i in items if i.field_id == UNRECOGNISED_FIELD]
    assert (lost.value, lost.reasons) == (None, [f"its row was not recognised: {UNKNOWN_LABEL}"])
    wrong = next(i for i in items if i.field_id == WRONG_CELL)
    assert (wrong.value, wrong.state, wrong.version, wrong.source_kind) == (31, "open", 1, "web")
    assert wrong.agency and wrong.year == 2021 and wrong.template == "gov-2021"
    (group,) = service.queue_groups(wang, QueueFilter())
    assert group.open_items == 12 and group.reasons["breaks the form's rule requests.row.new"] == 6
    assert service.queue_size_by_reason()[f"its row was not recognised: {UNKNOWN_LABEL}"] == 2


def test_queue_filters(service: ReviewService, wang: User) -> None:
    assert len(service.queue(wang, QueueFilter(reason="requests.balance"))) == 4
    assert len(service.queue(wang, QueueFilter(source_kind="web", year=2021, template="gov-2021"))) == 12
    assert service.queue(wang, QueueFilter(source_kind="scan")) == []
    assert service.queue(wang, QueueFilter(year=2020)) == []
    assert service.queue(wang, QueueFilter(reason="100%_no")) == []  # LIKE wildcards are literal
    assert len(service.queue(wang, QueueFilter(), limit=3, offset=10)) == 2


# ---------------------------------------------------------------------------------------
# Claims are leases
# ---------------------------------------------------------------------------------------
def test_two_reviewers_claiming_one_item_one_wins(service: ReviewService, wang: User, li: User) -> None:
    item_id = _item_of(service, wang, WRONG_CELL)
    other = ReviewService(service.store.url)  # the second reviewer's own connection pool
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def grab(svc: ReviewService, who: User) -> None:
        barrier.wait()
        try:
            svc.claim(who, item_id)
            results[who.name] = "won"
        except ItemUnavailable as exc:
            results[who.name] = str(exc)

    threads = [threading.Thread(target=grab, args=(service, wang)), threading.Thread(target=grab, args=(other, li))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.close()
    assert sorted(results.values()).count("won") == 1, results
    loser = next(n for n, r in results.items() if r != "won")
    winner = next(n for n, r in results.items() if r == "won")
    assert f"claimed by {winner}" in results[loser]
    item = service.item(wang, item_id)
    assert (item.state, item.claimed_by) == ("claimed", winner)
    # the loser cannot save over the winner's claim either
    with pytest.raises(ItemUnavailable):
        service.confirm(wang if loser == "wang" else li, item_id)


def test_an_expired_lease_returns_the_item(service: ReviewService, wang: User, li: User) -> None:
    item_id = _item_of(service, wang, WRONG_CELL)
    service.claim(wang, item_id, lease_seconds=1)
    with pytest.raises(ItemUnavailable):
        service.claim(li, item_id)
    time.sleep(1.2)
    assert service.item(li, item_id).state == "open"
    assert service.claim(li, item_id).claimed_by == "li"


def test_next_item_claims_the_first_free_one(service: ReviewService, wang: User, li: User) -> None:
    first = service.next_item(wang, QueueFilter())
    assert first is not None and first.claimed_by == "wang"
    second = service.next_item(li, QueueFilter())
    assert second is not None and second.id != first.id and second.claimed_by == "li"


# ---------------------------------------------------------------------------------------
# Saves, values, versions, recheck
# ---------------------------------------------------------------------------------------
def test_correcting_the_wrong_cell_confirms_the_rest_by_rule(service: ReviewService, wang: User,
                                                            boss: User) -> None:
    service.map_row(wang, _unmapped_item(service, wang), None, note="a county's own row")
    # the template's 行政强制 row is then truly not printed: the reviewer confirms it blank
    blank = service.confirm(wang, _item_of(service, wang, UNRECOGNISED_FIELD), note="not printed")
    assert blank.item.value is None and not blank.report_complete
    item_id = _item_of(service, wang, WRONG_CELL)
    outcome = service.correct(wang, item_id, "13", version=1, note="typo in the table")
    assert outcome.item.state == "resolved" and outcome.item.value == 13
    assert sorted(outcome.confirmed_by_rule) == sorted(RULE_FIELDS)
    assert outcome.report_complete
    view = service.report(wang, outcome.item.report_id)
    assert view.complete and all(c.ok for c in view.checks)
    cells = {c.field_id: c for c in view.cells}
    assert (cells[WRONG_CELL].status, cells[WRONG_CELL].value) == ("corrected", 13)
    assert all(cells[f].status == "accepted" for f in RULE_FIELDS)
    assert service.queue(wang, QueueFilter()) == []
    actions = _actions(service, boss)
    assert actions.count("confirmed_by_rule") == len(RULE_FIELDS)
    assert "correct" in actions and "not_a_row" in actions
    (entry,) = [a for a in service.audit(boss, item_id) if a.action == "correct"]
    assert (entry.user, entry.old_value, entry.new_value, entry.note) == ("wang", 31, 13, "typo in the table")


def test_confirming_the_wrong_cell_leaves_the_rule_broken(service: ReviewService, wang: User) -> None:
    item_id = _item_of(service, wang, WRONG_CELL)
    outcome = service.confirm(wang, item_id)
    assert outcome.confirmed_by_rule == [] and not outcome.report_complete
    assert outcome.item.state == "resolved" and outcome.item.value == 31
    assert len(service.queue(wang, QueueFilter())) == 11


def test_a_rule_that_now_fails_sends_its_accepted_fields_to_review(service: ReviewService, wang: User,
                                                                   boss: User) -> None:
    # A wrong correction: the total made to match the wrong cell. The balance rule now holds,
    # but the total's own rules (sum of outcomes, sum of the row) now fail.
    item_id = _item_of(service, wang, "requests.total.natural_person")
    outcome = service.correct(wang, item_id, 31)
    assert sorted(outcome.confirmed_by_rule) == ["requests.carried_forward.natural_person",
                                                 "requests.carried_over.natural_person"]
    queued = {i.field_id: i for i in service.queue(wang, QueueFilter()) if i.field_id}
    granted = queued["requests.granted.natural_person"]
    assert granted.reasons == ["breaks the form's rule requests.total.natural_person"]
    assert "requests.total.total" in queued  # requests.row.total fails too
    assert WRONG_CELL in queued  # requests.row.new still fails: its own item stays
    view = service.report(wang, outcome.item.report_id)
    failed = {c.rule for c in view.checks if not c.ok}
    assert failed == {"requests.total.natural_person", "requests.row.total", "requests.row.new"}
    cells = {c.field_id: c for c in view.cells}
    assert cells["requests.granted.natural_person"].status == "needs_review"
    assert cells["requests.total.natural_person"].status == "corrected"  # a human value is not sent back
    assert "rule_failed" in _actions(service, boss)


@pytest.mark.parametrize("text, message", [
    ("abc", "not a number"),
    ("-3", "signed number where a count"),
    ("2.5", "whole number"),
    ("12万", "unit 万"),
])
def test_bad_values_are_refused_and_nothing_is_saved(service: ReviewService, wang: User, boss: User,
                                                     text: str, message: str) -> None:
    item_id = _item_of(service, wang, WRONG_CELL)
    before = _actions(service, boss)
    with pytest.raises(InvalidValue, match=message):
        service.correct(wang, item_id, text)
    for number in (-3, 2.5):
        with pytest.raises(InvalidValue):
            service.correct(wang, item_id, number)
    item = service.item(wang, item_id)
    assert (item.state, item.value, item.version) == ("open", 31, 1)
    assert _actions(service, boss) == before


def test_amounts_in_wan(service: ReviewService, wang: User) -> None:
    from gongkai.review.values import parse_reviewer_value

    assert parse_reviewer_value("12万", "amount_wan") == 12
    assert parse_reviewer_value("120000元", "amount_wan") == 12
    assert parse_reviewer_value("66.28", "amount_wan") == 66.28
    assert parse_reviewer_value("", "count") is None
    with pytest.raises(InvalidValue):
        parse_reviewer_value("十二", "amount_wan")


def test_a_stale_version_is_a_conflict(service: ReviewService, wang: User) -> None:
    item_id = _item_of(service, wang, WRONG_CELL)
    with pytest.raises(VersionConflict, match="changed since you opened it"):
        service.correct(wang, item_id, 13, version=7)
    assert service.item(wang, item_id).state == "open"


def test_skip(service: ReviewService, wang: User, boss: User) -> None:
    item_id = _item_of(service, wang, WRONG_CELL)
    assert service.skip(wang, item_id, note="later").state == "skipped"
    assert item_id not in {i.id for i in service.queue(wang, QueueFilter())}
    assert item_id in {i.id for i in service.queue(wang, QueueFilter(states=["skipped"]))}
    assert not service.report(wang, service.item(wang, item_id).report_id).complete
    assert _actions(service, boss)[-1] == "skip"


def test_unknown_items_are_not_found(service: ReviewService, wang: User) -> None:
    with pytest.raises(ItemNotFound):
        service.item(wang, 99999)
    with pytest.raises(ItemNotFound):
        service.confirm(wang, 99999)
    with pytest.raises(ItemNotFound):
        service.report(wang, 99999)


# ---------------------------------------------------------------------------------------
# Unmapped rows, label variants
# ---------------------------------------------------------------------------------------
def test_mapping_an_unmapped_row_learns_a_label_variant(service: ReviewService, wang: User, boss: User) -> None:
    item_id = _unmapped_item(service, wang)
    detail = service.item(wang, item_id)
    assert detail.table == "active" and detail.row_label == UNKNOWN_LABEL
    assert "enforcement" in {c.row_id for c in detail.row_choices} or detail.row_choices
    row_id = next(c.row_id for c in detail.row_choices if c.label == "行政强制")
    with pytest.raises(InvalidValue):
        service.map_row(wang, item_id, "no.such.row")
    outcome = service.map_row(wang, item_id, row_id)
    assert outcome.item.state == "resolved"
    (learned,) = service.store.learned_labels()
    assert (learned.template, learned.table, learned.row_id, learned.label) == (
        "gov-2021", "active", row_id, UNKNOWN_LABEL)
    (variant,) = service.label_variants(boss)
    assert variant.created_by == "wang"
    with pytest.raises(PermissionDenied):
        service.revoke_variant(wang, variant.id)
    assert service.revoke_variant(boss, variant.id).revoked_at is not None
    assert service.store.learned_labels() == []
    assert len(service.label_variants(boss, include_revoked=True)) == 1
    assert {"map_row", "variant_revoked"} <= set(_actions(service, boss))


# ---------------------------------------------------------------------------------------
# Users, roles, tokens, logins
# ---------------------------------------------------------------------------------------
def test_reviewer_cannot_do_admin_things(service: ReviewService, wang: User, boss: User) -> None:
    with pytest.raises(PermissionDenied):
        service.add_user(wang, "mallory", "admin", PASSWORD)
    with pytest.raises(PermissionDenied):
        service.list_users(wang)
    with pytest.raises(PermissionDenied):
        service.set_user_active(wang, "boss", False)
    with pytest.raises(PermissionDenied):
        service.issue_token(wang, "boss")
    with pytest.raises(PermissionDenied):
        service.label_variants(wang)
    with pytest.raises(PermissionDenied):
        service.audit(wang)
    assert service.add_user(boss, "zhao", "reviewer", PASSWORD).role == "reviewer"
    assert [u.name for u in service.list_users(boss)] == ["boss", "wang", "zhao"]
    assert service.set_user_active(boss, "zhao", False).active is False
    with pytest.raises(AuthenticationFailed):
        service.authenticate("zhao", PASSWORD)


def test_passwords_are_argon2id_and_checked(service: ReviewService, wang: User) -> None:
    assert service.authenticate("wang", PASSWORD) == wang
    with pytest.raises(AuthenticationFailed, match="unknown user name or wrong password"):
        service.authenticate("wang", "wrong")
    with pytest.raises(AuthenticationFailed, match="unknown user name or wrong password"):
        service.authenticate("nobody", PASSWORD)
    with pytest.raises(InvalidValue):
        service.add_user(None, "wang", "reviewer", PASSWORD)  # names are unique
    with pytest.raises(InvalidValue):
        service.add_user(None, "short", "reviewer", "1234")
    with service.store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users WHERE name = 'wang'")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_failed_logins_are_slowed_down(service: ReviewService, wang: User) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed, match="wrong password"):
            service.authenticate("wang", "guess")
    assert service.authenticate("wang", PASSWORD) == wang  # four failures cost nothing; success resets
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            service.authenticate("wang", "guess")
    with pytest.raises(AuthenticationFailed, match="too many failed logins"):
        service.authenticate("wang", PASSWORD)  # even the right password waits
    time.sleep(1.1)
    with pytest.raises(AuthenticationFailed, match="wrong password"):
        service.authenticate("wang", "guess")  # the sixth failure: two seconds now
    with pytest.raises(AuthenticationFailed, match=r"try again in [12] s"):
        service.authenticate("wang", PASSWORD)
    time.sleep(2.1)
    assert service.authenticate("wang", PASSWORD) == wang


def test_api_tokens_are_stored_hashed(service: ReviewService, wang: User, boss: User) -> None:
    token = service.issue_token(None, "wang")
    assert service.user_for_token(token) == wang
    assert service.user_for_token(service.issue_token(wang, "wang")) == wang  # one's own token
    with pytest.raises(AuthenticationFailed):
        service.user_for_token(token + "x")
    with pytest.raises(AuthenticationFailed):
        service.user_for_token("")
    with service.store.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM api_tokens")) for v in row)
    assert token not in dump
    service.set_user_active(boss, "wang", False)
    with pytest.raises(AuthenticationFailed):
        service.user_for_token(token)
    assert "token_issued" in _actions(service, boss)


def test_a_save_waits_for_another_writer_instead_of_failing(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    svc = ReviewService(url)
    folder = tmp_path_factory.getbasetemp() / "review-samples"
    folder.mkdir(exist_ok=True)
    svc.store.save_result(broken_result(folder))
    wang = svc.add_user(None, "wang", "reviewer", PASSWORD)
    item_id = _item_of(svc, wang, WRONG_CELL)
    pipeline = OperationalStore(url)  # like `gongkai run`: its own engine
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with pipeline._write_transaction() as conn:
            conn.execute(sa.text("UPDATE documents SET path = 'busy'"))
            locked.set()
            release.wait(10)

    writer = threading.Thread(target=hold)
    writer.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    outcome = svc.correct(wang, item_id, 13)
    assert time.monotonic() - started >= 0.4 and outcome.item.state == "resolved"
    writer.join()
    pipeline.close()
    svc.close()


def test_a_field_with_its_own_doubt_is_not_confirmed_by_rule(db_url: str, tmp_path: Path,
                                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.getbasetemp() / "review-samples"
    folder.mkdir(exist_ok=True)
    result = broken_result(folder)
    weak = result.reports[0].field("requests.new.total")  # as if OCR had read it weakly
    weak.reasons = ["confidence 0.42 below 0.80", *weak.reasons]
    svc = ReviewService(db_url)
    svc.store.save_result(result)
    wang = svc.add_user(None, "wang", "reviewer", PASSWORD)
    outcome = svc.correct(wang, _item_of(svc, wang, WRONG_CELL), 13)
    assert "requests.new.total" not in outcome.confirmed_by_rule
    assert len(outcome.confirmed_by_rule) == len(RULE_FIELDS) - 1
    assert sorted(i.field_id for i in svc.queue(wang, QueueFilter()) if i.kind == "field") == [
        UNRECOGNISED_FIELD, "requests.new.total"]
    svc.close()
