"""Webhooks may point at the public internet only (issue 14, item 6). No network: a fake
resolver answers as getaddrinfo would."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from service.delivery.targets import WebhookTargetRefused, check_webhook_target


def resolver(table: dict[str, list[str]]):
    """A getaddrinfo stand-in: host → addresses; unknown hosts fail as DNS would."""
    calls = []

    def resolve(host, port, family=0, type=0, proto=0, flags=0):
        calls.append((host, port, type))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = []
        for address in table[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            answers.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return answers

    resolve.calls = calls
    return resolve


DNS = resolver(
    {
        "hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        "localhost": ["127.0.0.1", "::1"],
        "db.internal": ["10.0.0.5"],
        "sneaky.example.com": ["93.184.215.14", "192.168.1.10"],  # one address inside
        "metadata.example.com": ["169.254.169.254"],
        "empty.example.com": [],
    }
)


def test_a_public_name_passes_and_its_addresses_come_back():
    addresses = check_webhook_target("https://hooks.example.com/srs", resolve=DNS)
    assert addresses == [
        ipaddress.ip_address("93.184.215.14"),
        ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    ]
    assert DNS.calls[-1] == ("hooks.example.com", 443, socket.SOCK_STREAM)
    check_webhook_target("http://hooks.example.com:8080/x", resolve=DNS)
    assert DNS.calls[-1][1] == 8080


def test_a_public_literal_address_passes_without_resolving():
    def no_dns(*args, **kwargs):
        raise AssertionError("a literal address needs no resolution")

    assert check_webhook_target("http://93.184.215.14/hook", resolve=no_dns) == [
        ipaddress.ip_address("93.184.215.14")
    ]


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:5432/", "loopback"),  # the example: the database port
        ("http://127.8.9.10/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4 written as IPv6
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link_local"),  # cloud metadata
        ("http://[fe80::1]/", "link_local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://240.0.0.1/", "reserved"),
        ("http://255.255.255.255/", "reserved"),
        ("http://100.64.0.1/", "not_global"),  # carrier-grade NAT shared space
        ("http://user:pw@127.0.0.1/", "loopback"),
        ("http://hooks.example.com@127.0.0.1/", "loopback"),
    ],
)
def test_addresses_inside_are_refused(url, reason):
    with pytest.raises(WebhookTargetRefused) as raised:
        check_webhook_target(url, resolve=DNS)
    assert raised.value.reason == reason
    assert raised.value.address is not None and raised.value.address in str(raised.value)


@pytest.mark.parametrize(
    "url, reason, address",
    [
        ("http://localhost:8000/", "loopback", "127.0.0.1"),
        ("https://db.internal/", "private", "10.0.0.5"),
        ("https://metadata.example.com/", "link_local", "169.254.169.254"),
        # every address must pass, not just the first
        ("https://sneaky.example.com/", "private", "192.168.1.10"),
    ],
)
def test_a_name_that_resolves_inside_is_refused(url, reason, address):
    with pytest.raises(WebhookTargetRefused) as raised:
        check_webhook_target(url, resolve=DNS)
    assert (raised.value.reason, raised.value.address) == (reason, address)


def test_a_name_that_later_resolves_inside_is_caught_when_checked_again():
    """Accepted at subscription, refused at delivery once its DNS points inside."""
    table = {"hooks.example.com": ["93.184.215.14"]}
    dns = resolver(table)
    check_webhook_target("https://hooks.example.com/", resolve=dns)
    table["hooks.example.com"] = ["127.0.0.1"]
    with pytest.raises(WebhookTargetRefused) as raised:
        check_webhook_target("https://hooks.example.com/", resolve=dns)
    assert raised.value.reason == "loopback"


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://nowhere.invalid/", "unresolvable"),
        ("https://empty.example.com/", "unresolvable"),
        ("ftp://hooks.example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("hooks.example.com/x", "scheme"),
        ("http:///path-only", "no_host"),
        ("http://[::1/", "no_host"),
        ("http://hooks.example.com:99999/", "no_host"),
    ],
)
def test_what_is_not_a_reachable_web_url_is_refused(url, reason):
    with pytest.raises(WebhookTargetRefused) as raised:
        check_webhook_target(url, resolve=DNS)
    assert raised.value.reason == reason


def test_allow_private_skips_the_address_checks_but_not_the_url_checks():
    assert check_webhook_target("http://127.0.0.1:5432/", resolve=DNS, allow_private=True) == []
    assert check_webhook_target("http://localhost/", resolve=DNS, allow_private=True) == []
    with pytest.raises(WebhookTargetRefused):
        check_webhook_target("ftp://127.0.0.1/", resolve=DNS, allow_private=True)


def test_the_real_resolver_is_the_default_and_catches_numeric_spellings_of_loopback():
    """getaddrinfo reads 2130706433 and 127.1 as 127.0.0.1 (no network needed)."""
    for url in ("http://2130706433/", "http://127.1/", "http://localhost/"):
        with pytest.raises(WebhookTargetRefused) as raised:
            check_webhook_target(url)
        assert raised.value.reason == "loopback"


# -- at subscription (the API) and at delivery (the worker) -----------------------------------
HOOK_INSIDE = "http://127.0.0.1:5432/"


def _subscribe(client, auth, url):
    return client.post("/api/v1/subscriptions", json={"url": url}, headers=auth("admin"))


@pytest.mark.parametrize(
    "url, reason",
    [
        (HOOK_INSIDE, "loopback"),  # the example: the database port
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.5/hook", "private"),
        ("http://[::1]:8000/", "loopback"),
        ("http://localhost:8000/hook", "loopback"),
    ],
)
def test_a_subscription_inside_is_refused(app, client, auth, url, reason):
    response = _subscribe(client, auth, url)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    message = response.get_json()["errors"]["json"]["url"][0]
    assert reason in message and "SRS_WEBHOOK_ALLOW_PRIVATE" in message
    assert client.get("/api/v1/subscriptions", headers=auth("admin")).get_json() == []


def test_changing_a_subscription_to_point_inside_is_refused(app, client, auth):
    created = _subscribe(client, auth, "https://hooks.newsroom.invalid/srs")
    assert created.status_code == 201  # a name that does not resolve now: checked on delivery
    subscription = f"/api/v1/subscriptions/{created.get_json()['id']}"
    etag = client.get(subscription, headers=auth("admin")).headers["ETag"]
    patched = client.patch(
        subscription, json={"url": HOOK_INSIDE}, headers={**auth("admin"), "If-Match": etag}
    )
    assert patched.status_code == 422


def test_private_targets_are_allowed_when_configured(app, client, auth):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert _subscribe(client, auth, HOOK_INSIDE).status_code == 201


def _owed_deliveries(app, client, auth, url: str) -> None:
    """A subscription to ``url`` accepted while private targets were allowed, and a
    report whose events it is owed."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert _subscribe(client, auth, url).status_code == 201
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    body = {
        "claim_key": "k",
        "claim": "A claim",
        "outlet": "Reuters",
        "stance": "supports",
        "new_outlet": True,
    }
    assert client.post("/api/v1/reports", json=body, headers=auth("write")).status_code == 201


def _deliver(session_factory, resolve=socket.getaddrinfo, allow_private=False):
    from service.delivery.worker import DeliveryWorker, WorkerSettings

    sent = []

    def send(url, body, headers, timeout):
        from service.delivery.webhooks import AttemptResult

        sent.append(url)
        return AttemptResult(status=204)

    settings = WorkerSettings(
        poll_interval=0.01, backoff_base=0.01, retention=None, allow_private=allow_private
    )
    DeliveryWorker(session_factory, settings, send=send, resolve=resolve).run_batch()
    return sent


def _deliveries(session_factory):
    from sqlalchemy import select

    from models import Delivery

    with session_factory() as session:
        return [(d.status, d.last_error) for d in session.scalars(select(Delivery))]


def test_the_worker_refuses_a_target_inside_at_delivery(app, client, auth, session_factory):
    _owed_deliveries(app, client, auth, HOOK_INSIDE)
    assert _deliver(session_factory) == []  # nothing was sent
    rows = _deliveries(session_factory)
    assert rows and all(status == "failed" for status, _ in rows)  # final: not retried
    assert all("target refused (loopback)" in error for _, error in rows)


def test_the_worker_catches_a_name_that_now_resolves_inside(app, client, auth, session_factory):
    _owed_deliveries(app, client, auth, "https://hooks.example.com/srs")
    dns = resolver({"hooks.example.com": ["192.168.1.10"]})
    assert _deliver(session_factory, resolve=dns) == []
    assert all(status == "failed" for status, _ in _deliveries(session_factory))


def test_the_worker_retries_a_name_that_does_not_resolve(app, client, auth, session_factory):
    _owed_deliveries(app, client, auth, "https://hooks.example.com/srs")
    assert _deliver(session_factory, resolve=resolver({})) == []
    rows = _deliveries(session_factory)
    assert rows and all(status == "pending" for status, _ in rows)


def test_the_worker_posts_to_a_public_address(app, client, auth, session_factory):
    _owed_deliveries(app, client, auth, "https://hooks.example.com/srs")
    dns = resolver({"hooks.example.com": ["93.184.215.14"]})
    assert _deliver(session_factory, resolve=dns)
    assert all(status == "delivered" for status, _ in _deliveries(session_factory))


def test_the_worker_posts_inside_when_allowed(app, client, auth, session_factory):
    _owed_deliveries(app, client, auth, HOOK_INSIDE)
    assert _deliver(session_factory, allow_private=True) == [HOOK_INSIDE] * len(
        _deliveries(session_factory)
    )
