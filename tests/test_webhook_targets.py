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
