"""The review app over HTTP: a real uvicorn server on 127.0.0.1, a real SQLite store made by
extracting a bundled sample, httpx as the client. Security first: every route refuses a
caller without a session or token, CSRF, escaping, roles, headers, malformed values."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from review_app import PASSWORDS, XSS, Broken, add_users, broken_sample, make_store, serve

from gongkai.models.review import QueueFilter
from gongkai.review.service import ReviewService
from gongkai.review.web.app import create_app
from gongkai.review.web.security import CSP


@pytest.fixture()
def sample(tmp_path: Path) -> Broken:
    return broken_sample(tmp_path, xss=True, blank_fee=True)


@pytest.fixture()
def service(tmp_path: Path, sample: Broken) -> Iterator[ReviewService]:
    url, analytics = make_store(tmp_path, [sample.path])
    opened = ReviewService(url, analytics)
    add_users(opened)
    yield opened
    opened.close()


@pytest.fixture()
def base(service: ReviewService) -> Iterator[str]:
    with serve(service) as url:
        yield url


def login(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/login")
    token = csrf_of(page.text)
    answer = client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf": token})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page without a CSRF token"
    return found.group(1)


def session_csrf(client: httpx.Client) -> str:
    return csrf_of(client.get("/queue").text)


def item_of(service: ReviewService, field_id: str) -> int:
    admin = service.authenticate("adam", PASSWORDS["adam"])
    items = service.queue(admin, QueueFilter(), limit=1000)
    return next(i.id for i in items if i.field_id == field_id)


# -- every route needs a session or a token -------------------------------------------------
OPEN_ROUTES = {("GET", "/login"), ("POST", "/login")}


def test_every_route_without_a_session_is_refused(service: ReviewService, base: str) -> None:
    app = create_app(service)
    checked = 0
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as anonymous:
        # FastAPI 0.139 keeps included routers as branches of app.routes: walk them all.
        for route in iter_route_contexts(app.routes):
            if route.path == "/static":
                continue
            assert route.methods, f"route {route.path} without methods (a mount or websocket?)"
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            for method in route.methods:
                if (method, route.path) in OPEN_ROUTES:
                    continue
                answer = anonymous.request(method, path, json={})
                if route.path.startswith("/api/"):
                    assert answer.status_code == 401, (method, route.path, answer.status_code)
                    assert "error" in answer.json()
                else:
                    assert answer.status_code == 303 and answer.headers["location"] == "/login", (method, route.path)
                checked += 1
    assert checked >= 25  # the enumeration really ran over the app's routes
    with httpx.Client(base_url=base, timeout=30) as anonymous:
        wrong = anonymous.get("/api/queue", headers={"Authorization": "Bearer not-a-token"})
        assert wrong.status_code == 401


def test_no_docs_or_openapi_exposed(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as anonymous:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert anonymous.get(path).status_code == 404


def test_failed_login_does_not_say_which_part_was_wrong(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        answers = []
        for name, password in (("rita", "wrong-password"), ("nobody", PASSWORDS["rita"])):
            token = csrf_of(client.get("/login").text)
            answer = client.post("/login", data={"name": name, "password": password, "csrf": token})
            assert answer.status_code == 401
            answers.append(re.search(r'class="error"[^>]*>([^<]+)<', answer.text).group(1))
        assert answers[0] == answers[1]
        assert answers[0].startswith("wrong name or password")


def test_repeated_failed_logins_lock_the_name_without_saying_so(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        def attempt(name: str, password: str) -> httpx.Response:
            return client.post("/login", data={"name": name, "password": password,
                                               "csrf": csrf_of(client.get("/login").text)})

        for _ in range(6):
            assert attempt("rita", "wrong-password").status_code == 401
        locked = attempt("rita", PASSWORDS["rita"])  # the right password, inside the lock
        unknown = attempt("nobody", "whatever-password")
        assert locked.status_code == unknown.status_code == 401
        message = re.compile(r'class="error"[^>]*>([^<]+)<')
        assert message.search(locked.text).group(1) == message.search(unknown.text).group(1)


def test_login_without_csrf_is_refused(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/login")
        answer = client.post("/login", data={"name": "rita", "password": PASSWORDS["rita"]})
        assert answer.status_code == 403
        assert client.get("/queue", follow_redirects=False).status_code == 303  # not logged in


# -- cookies and headers -------------------------------------------------------------------
def test_session_cookie_is_httponly_and_samesite_strict(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"name": "rita", "password": PASSWORDS["rita"], "csrf": token},
                             follow_redirects=False)
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("gongkai_session=")
        assert "httponly" in cookie.lower()
        assert "samesite=strict" in cookie.lower()
        assert "secure" not in cookie.lower()  # only when configured (behind HTTPS)


def test_secure_cookie_when_configured(service: ReviewService) -> None:
    with serve(service, secure_cookies=True) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert "; secure" in client.get("/login").headers["set-cookie"].lower()


def test_security_headers_on_pages_and_api(base: str) -> None:
    client = login(base, "rita")
    for path in ("/login", "/queue", "/api/queue"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP and "unsafe-inline" not in CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
    # and no inline script in any page (the CSP would block it anyway)
    for path in ("/queue",):
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", client.get(path).text) is None


# -- CSRF ------------------------------------------------------------------------------------
def test_cookie_post_without_csrf_is_refused_and_nothing_saved(
    service: ReviewService, sample: Broken, base: str
) -> None:
    client = login(base, "rita")
    item = item_of(service, sample.field_id)
    refused = client.post(f"/api/items/{item}/correct", json={"value": sample.true_value})
    assert refused.status_code == 403
    wrong = client.post(f"/api/items/{item}/correct", json={"value": sample.true_value},
                        headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert client.get(f"/api/items/{item}").json()["value"] == sample.printed
    form = client.post("/logout")  # a form post without its csrf field
    assert form.status_code == 403
    assert client.get("/queue").status_code == 200  # still logged in


# -- untrusted text is escaped --------------------------------------------------------------------
def test_script_in_a_cell_shows_as_text(service: ReviewService, base: str) -> None:
    client = login(base, "rita")
    unmapped = [i for i in client.get("/api/queue").json()["items"] if i["kind"] == "unmapped"]
    assert len(unmapped) == 1
    detail = client.get(f"/api/items/{unmapped[0]['id']}").json()
    assert detail["row_label"] == XSS  # stored and served as the document printed it
    html = client.get(f"/items/{detail['id']}").text
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- roles -------------------------------------------------------------------------------------
def test_reviewer_cannot_reach_admin_routes(service: ReviewService, base: str) -> None:
    rita = login(base, "rita")
    token = session_csrf(rita)
    assert rita.get("/admin").status_code == 403
    assert rita.get("/api/users").status_code == 403
    assert rita.post("/api/users", json={"name": "eve", "role": "admin", "password": "eve-password"},
                     headers={"X-CSRF-Token": token}).status_code == 403
    assert rita.post("/admin/users", data={"name": "eve", "role": "admin", "password": "eve-password",
                                           "csrf": token}).status_code == 403
    assert rita.post("/api/users/rita/token", headers={"X-CSRF-Token": token}).status_code == 403
    adam = login(base, "adam")
    names = [u["name"] for u in adam.get("/api/users").json()]
    assert "eve" not in names and {"rita", "adam"} <= set(names)


def test_admin_adds_deactivates_and_issues_tokens(service: ReviewService, base: str) -> None:
    adam = login(base, "adam")
    token = session_csrf(adam)
    added = adam.post("/admin/users", data={"name": "rosa", "role": "reviewer", "password": "rosa-password",
                                             "csrf": token})
    assert added.status_code == 303
    page = adam.post("/admin/users/rosa/token", data={"csrf": token})
    issued = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
    with httpx.Client(base_url=base, timeout=30) as bot:
        assert bot.get("/api/queue", headers={"Authorization": f"Bearer {issued}"}).status_code == 200
        assert adam.post("/admin/users/rosa/active", data={"active": "false", "csrf": token}).status_code == 303
        assert bot.get("/api/queue", headers={"Authorization": f"Bearer {issued}"}).status_code == 401


def test_deactivated_user_loses_their_session(service: ReviewService, base: str) -> None:
    rita = login(base, "rita")
    assert rita.get("/queue").status_code == 200
    adam = login(base, "adam")
    assert adam.post("/api/users/rita/active", json={"active": False},
                     headers={"X-CSRF-Token": session_csrf(adam)}).status_code == 200
    assert rita.get("/queue").status_code == 303


# -- bearer tokens -------------------------------------------------------------------------------
def test_bearer_token_reaches_the_api_without_csrf(service: ReviewService, sample: Broken, base: str) -> None:
    token = service.issue_token(None, "rita")
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as bot:
        queue = bot.get("/api/queue").json()["items"]
        assert any(i["field_id"] == sample.field_id for i in queue)
        item = next(i for i in queue if i["field_id"] == sample.field_id)
        for key in ("id", "field_id", "value", "raw", "reasons", "state", "report_id", "agency", "year"):
            assert key in item
        assert bot.post(f"/api/items/{item['id']}/claim").status_code == 200
        saved = bot.post(f"/api/items/{item['id']}/correct", json={"value": sample.true_value, "note": "typo"})
        assert saved.status_code == 200, saved.text
        outcome = saved.json()
        assert outcome["item"]["value"] == sample.true_value
        assert outcome["report_complete"] in (True, False)
        assert bot.get(f"/api/items/{item['id']}").json()["state"] == "resolved"


def test_queue_filters_through_the_api(service: ReviewService, base: str) -> None:
    token = service.issue_token(None, "rita")
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as bot:
        everything = bot.get("/api/queue").json()["items"]
        assert everything
        assert bot.get("/api/queue", params={"year": 2021}).json()["items"] == everything
        assert bot.get("/api/queue", params={"year": 2019}).json()["items"] == []
        assert bot.get("/api/queue", params={"source_kind": "scan"}).json()["items"] == []
        assert bot.get("/api/queue", params={"source_kind": "nonsense"}).status_code == 422
        groups = bot.get("/api/queue/groups").json()["groups"]
        assert sum(g["open_items"] for g in groups) >= len(everything)


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["abc", "-3", "2.5", True, "12万", [1]])
def test_malformed_value_is_refused_and_nothing_saved(service: ReviewService, sample: Broken, base: str,
                                                      value: object) -> None:
    client = login(base, "rita")
    token = session_csrf(client)
    item = item_of(service, sample.field_id)  # a count: 万 makes no sense in it
    before = client.get(f"/api/items/{item}").json()
    answer = client.post(f"/api/items/{item}/correct", json={"value": value}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]
    after = client.get(f"/api/items/{item}").json()
    assert (after["value"], after["state"] in ("open", "claimed")) == (before["value"], True)
    assert not [a for a in service.audit(service.authenticate("adam", PASSWORDS["adam"]), item)
                if a.action == "correct"]


def test_wan_field_takes_wan_text(service: ReviewService, base: str) -> None:
    """`12万` in a 万元 field is 12; in a count it was refused above."""
    item = item_of(service, "active.fees.amount_wan")  # printed blank in this sample
    client = login(base, "rita")
    answer = client.post(f"/api/items/{item}/correct", json={"value": "12万"},
                         headers={"X-CSRF-Token": session_csrf(client)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["item"]["value"] == 12


def test_unknown_item_is_404_and_pages_render(service: ReviewService, sample: Broken, base: str) -> None:
    client = login(base, "rita")
    assert client.get("/api/items/999999").status_code == 404
    assert client.get("/items/999999").status_code == 404
    item = item_of(service, sample.field_id)
    page = client.get(f"/items/{item}")
    assert page.status_code == 200
    assert 'id="value-box"' in page.text and f'data-shown="{sample.printed}"' in page.text
    report_id = client.get(f"/api/items/{item}").json()["report_id"]
    report = client.get(f"/reports/{report_id}")
    assert report.status_code == 200 and "status-needs_review" in report.text


# -- unmapped rows and learned label variants -------------------------------------------------------
def test_unmapped_row_mapped_becomes_a_variant_admin_can_revoke(service: ReviewService, base: str) -> None:
    rita = login(base, "rita")
    token = session_csrf(rita)
    item = next(i for i in rita.get("/api/queue").json()["items"] if i["kind"] == "unmapped")
    page = rita.get(f"/items/{item['id']}").text
    assert '<select id="value-box"' in page and "not a template row" in page
    assert 'value="other_services"' in page  # the table's rows are offered
    wrong = rita.post(f"/api/items/{item['id']}/map", json={"row_id": "no_such_row"}, headers={"X-CSRF-Token": token})
    assert wrong.status_code == 422 and "no_such_row" in wrong.json()["error"]
    assert rita.get(f"/api/items/{item['id']}").json()["state"] in ("open", "claimed")
    mapped = rita.post(f"/api/items/{item['id']}/map", json={"row_id": "other_services", "version": item["version"]},
                       headers={"X-CSRF-Token": token})
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["item"]["state"] == "resolved"

    adam = login(base, "adam")
    variants = adam.get("/api/variants").json()
    assert [(v["label"], v["row_id"], v["created_by"]) for v in variants] == [(XSS, "other_services", "rita")]
    admin_page = adam.get("/admin").text
    assert XSS not in admin_page and "&lt;script&gt;alert(1)&lt;/script&gt;" in admin_page
    revoked = adam.post(f"/admin/variants/{variants[0]['id']}/revoke", data={"csrf": session_csrf(adam)})
    assert revoked.status_code == 303
    assert adam.get("/api/variants").json() == []
    assert adam.get("/api/variants", params={"include_revoked": "true"}).json()[0]["revoked_at"] is not None


def test_stale_version_is_a_conflict_and_nothing_saved(service: ReviewService, sample: Broken, base: str) -> None:
    client = login(base, "rita")
    token = session_csrf(client)
    item = client.get(f"/api/items/{item_of(service, sample.field_id)}").json()
    stale = client.post(f"/api/items/{item['id']}/correct", json={"value": 13, "version": item["version"] - 1},
                        headers={"X-CSRF-Token": token})
    assert stale.status_code == 409 and stale.json()["error"]
    assert client.get(f"/api/items/{item['id']}").json()["value"] == sample.printed


def test_item_claimed_by_another_is_refused(service: ReviewService, sample: Broken, base: str) -> None:
    item = item_of(service, sample.field_id)
    service.claim(service.authenticate("adam", PASSWORDS["adam"]), item)
    rita = login(base, "rita")
    token = session_csrf(rita)
    assert rita.post(f"/api/items/{item}/claim", headers={"X-CSRF-Token": token}).status_code == 409
    refused = rita.post(f"/api/items/{item}/correct", json={"value": 13}, headers={"X-CSRF-Token": token})
    assert refused.status_code == 409 and "adam" in refused.json()["error"]


@pytest.mark.postgres
def test_correction_over_http_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    sample = broken_sample(tmp_path)
    url, analytics = make_store(tmp_path, [sample.path], url=pg_url)
    service = ReviewService(url, analytics)
    try:
        add_users(service)
        with serve(service) as base:
            client = login(base, "rita")
            item = item_of(service, sample.field_id)
            saved = client.post(f"/api/items/{item}/correct", json={"value": sample.true_value},
                                headers={"X-CSRF-Token": session_csrf(client)})
            assert saved.status_code == 200, saved.text
            assert saved.json()["report_complete"] is True
            assert client.get("/api/queue").json()["items"] == []
    finally:
        service.close()


def test_app_keeps_working_while_the_pipeline_writes(service: ReviewService, sample: Broken, base: str,
                                                     tmp_path: Path) -> None:
    """A writer saving new documents into the same SQLite file (WAL) while a reviewer reads
    the queue and saves a correction: every request answers, nothing is lost."""
    import threading

    from gongkai.extractors.pipeline import extract_file
    from gongkai.store import OperationalStore

    result = extract_file(sample.path)
    url = service.store.url
    stop, saved, errors = threading.Event(), [], []

    def pipeline() -> None:
        with OperationalStore(url) as store:
            n = 0
            while not stop.is_set() and n < 500:
                copy = result.model_copy(deep=True)
                copy.source.sha256 = f"{n:064x}"
                try:
                    store.save_result(copy)
                    saved.append(n)
                except Exception as exc:  # noqa: BLE001 (reported below)
                    errors.append(exc)
                n += 1

    writer = threading.Thread(target=pipeline)
    client = login(base, "rita")
    token = session_csrf(client)
    item = item_of(service, sample.field_id)
    writer.start()
    try:
        for _ in range(10):
            assert client.get("/queue").status_code == 200
            assert client.get(f"/items/{item}").status_code == 200
        answer = client.post(f"/api/items/{item}/correct", json={"value": sample.true_value},
                             headers={"X-CSRF-Token": token})
        assert answer.status_code == 200, answer.text
        assert writer.is_alive() and saved  # the reviewer really worked while the writer wrote
    finally:
        stop.set()
        writer.join(timeout=120)
    assert not errors
    assert client.get(f"/api/items/{item}").json()["value"] == sample.true_value
