"""Host addresses, target checks and TLS trust (with a test CA from trustme)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hvmem.errors import ErrorKind, HvmemError
from hvmem.hyperv.connect import HostTarget, open_client, parse_host_url
from hvmem.hyperv.winrm_channel import WinrmChannel
from hvmem.sim.wsman import WsmanServer
from wsman_fakes import (
    PASSWORD,
    USER,
    EchoHandler,
    Pki,
    colon_fingerprint,
    make_pki,
    target_for,
)


@pytest.mark.parametrize(("typed", "url"), [
    ("hv01", "https://hv01:5986/wsman"),
    ("  HV01.Lab.Local ", "https://hv01.lab.local:5986/wsman"),
    ("hv01:5985", "http://hv01:5985/wsman"),
    ("hv01:8443", "https://hv01:8443/wsman"),
    ("http://10.0.0.5:5985/wsman", "http://10.0.0.5:5985/wsman"),
    ("HTTPS://hv01/wsman", "https://hv01:5986/wsman"),
    ("http://hv01", "http://hv01:5985/wsman"),
    ("https://[fe80::1]:5986/wsman", "https://[fe80::1]:5986/wsman"),
])
def test_parse_host_url_accepts_what_people_type(typed: str, url: str) -> None:
    assert parse_host_url(typed) == url


@pytest.mark.parametrize(("typed", "words"), [
    ("", "No host address"),
    ("ftp://hv01/wsman", "scheme must be http or https"),
    ("https://admin:pw@hv01/wsman", "must not contain a user or password"),
    ("https://hv01:5986/other", "path must be /wsman"),
    ("hv01:99999", "not a valid host address"),
    ("hv 01", "no valid host name"),
    ("https://hv01;rm/wsman", "no valid host name"),
])
def test_parse_host_url_refuses_bad_input_clearly(typed: str, words: str) -> None:
    with pytest.raises(HvmemError) as caught:
        parse_host_url(typed)

    assert caught.value.kind is ErrorKind.CONFIG
    assert words in caught.value.summary


def test_target_repr_hides_the_password() -> None:
    target = HostTarget("https://hv01:5986/wsman", user="LAB\\admin",
                        password="Tr0ub4dor&3")

    assert "Tr0ub4dor" not in repr(target)
    assert "LAB" in repr(target)


@pytest.mark.parametrize(("fields", "words"), [
    (dict(url="http://hv01:5985/wsman", auth="basic", user="a"), "unencrypted"),
    (dict(url="https://hv01:5986/wsman", user="a", operation_timeout_s=60,
          read_timeout_s=30), "read timeout must be greater than the operation timeout"),
    (dict(url="https://hv01:5986/wsman", auth="ntlm"), "needs a user name"),
    (dict(url="https://hv01:5986/wsman", auth="certificate"), "certificate and a key"),
    (dict(url="hv01", user="a"), "not a canonical WinRM URL"),
    (dict(url="https://hv01:5986/wsman", user="a", cert_fingerprint="12:34"),
     "not a SHA-256"),
])
def test_targets_that_cannot_work_are_refused_before_connecting(
        fields: dict[str, object], words: str) -> None:
    with pytest.raises(HvmemError) as caught:
        open_client(HostTarget(**fields))  # type: ignore[arg-type]

    assert caught.value.kind is ErrorKind.CONFIG
    assert words in caught.value.summary


def test_basic_over_http_is_allowed_to_loopback_or_when_opted_in() -> None:
    HostTarget("http://127.0.0.1:5985/wsman", auth="basic", user="a").check()
    HostTarget("http://hv01:5985/wsman", auth="basic", user="a",
               allow_unencrypted=True).check()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_server(pki: Pki) -> Iterator[WsmanServer]:
    with WsmanServer(EchoHandler, {USER: PASSWORD}, ssl_context=pki.server_context(),
                     receive_wait=0.2) as server:
        yield server


def _call(target: HostTarget) -> dict[str, object]:
    channel = WinrmChannel(target)
    try:
        return channel.call("hello", {}, timeout=10)
    finally:
        channel.close()


def test_an_untrusted_certificate_is_tls_with_its_fingerprint(
        https_server: WsmanServer, pki: Pki) -> None:
    with pytest.raises(HvmemError) as caught:
        _call(target_for(https_server.url))

    assert caught.value.kind is ErrorKind.TLS
    assert caught.value.summary == "The certificate of 127.0.0.1 is not trusted"
    assert colon_fingerprint(pki.fingerprint) in caught.value.details
    assert https_server.stats.shells_opened == 0


def test_after_a_tls_failure_nothing_is_retried_with_weaker_settings(
        https_server: WsmanServer) -> None:
    channel = WinrmChannel(target_for(https_server.url))

    for _ in range(2):
        with pytest.raises(HvmemError) as caught:
            channel.call("hello", {}, timeout=10)
        assert caught.value.kind is ErrorKind.TLS
    channel.close()

    stats = https_server.stats
    # Each call made one verified handshake, which failed; the only other connection is
    # the one that reads the certificate to show its fingerprint, and it sends nothing.
    assert stats.tls_failures == 2
    assert stats.http_requests == 0
    assert stats.tcp_accepts <= 4
    assert channel.target.uses_tls and channel.target.verify_tls


def test_basic_over_https_with_a_test_ca_file(https_server: WsmanServer,
                                              pki: Pki) -> None:
    answer = _call(target_for(https_server.url, ca_trust_path=str(pki.ca_file)))

    assert answer["ok"] is True
    assert https_server.stats.auth_failures == 0
    assert https_server.stats.tls_failures == 0


def test_a_pinned_fingerprint_is_trusted_and_a_wrong_one_is_not(
        https_server: WsmanServer, pki: Pki) -> None:
    answer = _call(target_for(https_server.url, cert_fingerprint=pki.fingerprint))
    with pytest.raises(HvmemError) as caught:
        _call(target_for(https_server.url, cert_fingerprint="00" * 32))

    assert answer["ok"] is True
    assert caught.value.kind is ErrorKind.TLS


def test_without_a_ca_file_the_system_store_is_trusted(
        https_server: WsmanServer, pki: Pki,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # OpenSSL's default verify paths, which the system store is read from, honour this.
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))

    answer = _call(target_for(https_server.url))

    assert answer["ok"] is True
