"""Typed, plain, credential-free errors: wrong password, nobody listening, TLS that does not verify."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailservers import (
    PASSWORD,
    USER,
    Collector,
    ImapServer,
    SmtpServer,
    TlsFiles,
    free_port,
    mail,
    make_backend,
    make_certificates,
    running_imap,
    running_smtp,
    settings_for,
)
from standardiste.backends.base import (
    AuthError,
    BackendContext,
    BackendStatus,
    Invalid,
    LinkState,
    Reply,
    Unavailable,
)
from standardiste.backends.imap import ImapBackend, TlsError


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_certificates(tmp_path / "tls")


@pytest.fixture
def tls_imap(tmp_path: Path, tls: TlsFiles) -> Iterator[ImapServer]:
    with running_imap(tmp_path / "imap-tls", tls=tls) as server:
        yield server


async def test_wrong_password_is_an_auth_error_without_the_password(
    imap_server: ImapServer, tmp_path: Path
) -> None:
    backend = make_backend(imap_server, None, tmp_path / "data", password="not-the-Pa55word")
    with pytest.raises(AuthError) as caught:
        await backend.connect()
    await backend.close()
    message = str(caught.value)
    assert "refused the login" in message
    assert "not-the-Pa55word" not in message and PASSWORD not in message


async def test_no_stored_secret_is_an_auth_error(imap_server: ImapServer, tmp_path: Path) -> None:
    def no_secret(workspace: str) -> str:
        raise AuthError(
            f"no password is stored for workspace {workspace!r}: run `standardiste login {workspace}`"
        )

    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=no_secret)
    backend = ImapBackend.from_config("mail", settings_for(imap_server, None), context)
    with pytest.raises(AuthError, match="standardiste login mail"):
        await backend.connect()
    await backend.close()


async def test_nobody_listening_is_unavailable(tmp_path: Path) -> None:
    server = ImapServer(tmp_path / "never-started")
    backend = make_backend(server, None, tmp_path / "data")
    with pytest.raises(Unavailable) as caught:
        await backend.connect()
    await backend.close()
    assert caught.value.retryable
    assert f"127.0.0.1:{server.port}" in str(caught.value)


async def test_implicit_tls_on_a_plain_port_is_a_tls_error(imap_server: ImapServer, tmp_path: Path) -> None:
    backend = make_backend(imap_server, None, tmp_path / "data", security="tls")
    with pytest.raises(TlsError) as caught:
        await backend.connect()
    await backend.close()
    assert not caught.value.retryable
    assert "TLS" in str(caught.value) and "security" in str(caught.value)


async def test_a_certificate_from_an_unknown_ca_is_a_tls_error(tls_imap: ImapServer, tmp_path: Path) -> None:
    table = settings_for(tls_imap, None)
    del table["ca_file"]
    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda workspace: PASSWORD)
    backend = ImapBackend.from_config("mail", table, context)
    with pytest.raises(TlsError) as caught:
        await backend.connect()
    await backend.close()
    assert "certificate" in str(caught.value) and "ca_file" in str(caught.value)


async def test_starttls_with_the_right_ca_works(tls_imap: ImapServer, tmp_path: Path) -> None:
    tls_imap.deliver(mail("Over TLS", message_id="<tls@customer.test>"))
    backend = make_backend(tls_imap, None, tmp_path / "data")
    await backend.connect()
    try:
        snapshot = await backend.snapshot()
        assert [c.subject for c in snapshot.conversations] == ["Over TLS"]
        collector = Collector(backend)
        await collector.ready()
        tls_imap.deliver(mail("Pushed over TLS", message_id="<tls2@customer.test>"))
        await collector.wait_for(lambda: collector.messages(), timeout=5)
        await collector.stop()
    finally:
        await backend.close()


def test_plain_text_is_refused_for_a_remote_host(tmp_path: Path) -> None:
    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda workspace: PASSWORD)
    table = {"host": "imap.example.com", "user": USER, "security": "plain"}
    with pytest.raises(Invalid) as caught:
        ImapBackend.from_config("mail", table, context)
    assert "plain" in str(caught.value) and "127.0.0.1" in str(caught.value)
    with pytest.raises(Invalid, match="smtp_security"):
        ImapBackend.from_config(
            "mail",
            {
                "host": "localhost",
                "user": USER,
                "security": "plain",
                "smtp_host": "smtp.example.com",
                "smtp_security": "plain",
            },
            context,
        )
    # The same on this machine is allowed (a local test server, a bridge like Proton's).
    assert ImapBackend.from_config(
        "mail", {"host": "localhost", "user": USER, "security": "plain", "smtp_security": "plain"}, context
    )


async def test_smtp_wrong_password_and_smtp_down(imap_server: ImapServer, tmp_path: Path) -> None:
    imap_server.deliver(mail("Help", message_id="<h@customer.test>"))
    with running_smtp(password="another-password") as smtp:
        backend = make_backend(imap_server, smtp, tmp_path / "data")
        await backend.connect()
        try:
            conversation = (await backend.snapshot()).conversations[0]
            with pytest.raises(AuthError) as caught:
                await backend.perform(Reply(conversation_id=conversation.id, body="Hi", key="r1"))
            assert "SMTP" in str(caught.value) and PASSWORD not in str(caught.value)
            assert smtp.received == []
        finally:
            await backend.close()
    backend = make_backend(imap_server, SmtpServer(), tmp_path / "data2", smtp_port=free_port())
    await backend.connect()
    try:
        conversation = (await backend.snapshot()).conversations[0]
        with pytest.raises(Unavailable):
            await backend.perform(Reply(conversation_id=conversation.id, body="Hi", key="r2"))
    finally:
        await backend.close()


async def test_smtp_starttls_with_an_unknown_ca_is_a_tls_error(
    imap_server: ImapServer, tmp_path: Path, tls: TlsFiles
) -> None:
    imap_server.deliver(mail("Help", message_id="<h@customer.test>"))
    stranger = make_certificates(tmp_path / "other-ca")
    with running_smtp(tls=tls) as smtp:
        backend = make_backend(
            imap_server, smtp, tmp_path / "data", smtp_security="starttls", ca_file=str(stranger.ca)
        )
        await backend.connect()
        try:
            conversation = (await backend.snapshot()).conversations[0]
            with pytest.raises(TlsError, match="certificate"):
                await backend.perform(Reply(conversation_id=conversation.id, body="Hi", key="r1"))
            assert smtp.received == []
        finally:
            await backend.close()
    with running_smtp(tls=tls) as smtp:
        backend = make_backend(
            imap_server, smtp, tmp_path / "data3", smtp_security="starttls", ca_file=str(tls.ca)
        )
        await backend.connect()
        try:
            conversation = (await backend.snapshot()).conversations[0]
            await backend.perform(Reply(conversation_id=conversation.id, body="Over STARTTLS", key="r1"))
            assert smtp.wait_for(1)[0].message["Subject"] == "Re: Help"
            assert smtp.logins == [USER]
        finally:
            await backend.close()


async def test_a_password_changed_while_running_is_reported_as_the_link_going_down(
    imap_server: ImapServer, tmp_path: Path
) -> None:
    password = {"value": PASSWORD}
    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=lambda workspace: password["value"])
    backend = ImapBackend.from_config("mail", settings_for(imap_server, None), context)
    backend._idle_tick = 0.5
    backend._retry = (0.2, 1.0)
    await backend.connect()
    await backend.snapshot()
    collector = Collector(backend)
    try:
        await collector.ready()
        password["value"] = "revoked-Pa55"
        imap_server.stop()
        imap_server.start()
        refused = await collector.wait_for(
            lambda: [
                e
                for e in collector.of(BackendStatus)
                if e.state is LinkState.DOWN and "refused the login" in e.detail
            ],
            timeout=10,
        )
        assert "revoked-Pa55" not in refused[0].detail
        password["value"] = PASSWORD  # `standardiste login mail` again: the next retry gets in
        await collector.wait_for(
            lambda: [e for e in collector.of(BackendStatus) if e.state is LinkState.CONNECTED], timeout=10
        )
    finally:
        await collector.stop()
        await backend.close()
