"""A fake Chatwoot on 127.0.0.1 for the adapter's tests: the REST API the adapter calls and an ActionCable
endpoint at /cable, on one port, in this process.

REST follows Chatwoot's OpenAPI document (tests/adapters/chatwoot_spec/): every request the adapter makes and
every answer the fake gives is validated against it with openapi-core (chatwoot_fake_spec.py); a request the
document does not allow is answered 400 and kept in `violations`, which the tests' fixtures assert empty.
The cable speaks ActionCable's protocol as Rails does (welcome, subscribe, confirm/reject_subscription,
pings every `ping_every` seconds, `{"identifier", "message": {"event", "data"}}` frames, disconnect), over
the websockets library's sans-I/O server protocol, with the events Chatwoot broadcasts for each change.

Customers act through `new_conversation` and `customer_writes` (as the widget, a mail or a social network
would). `set_down` stops the whole server (REST and cable) and starts it again on the same port (helpdesk_fake.py);
`drop_cable` cuts only the websockets; `fail` makes chosen requests answer an error (429 with Retry-After...).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import helpdesk_fake
from chatwoot_fake_spec import SpecChecker
from helpdesk_fake import FakeServer, Fault, answer
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

CHANNEL_TYPES = {"chat": "Channel::WebWidget", "email": "Channel::Email", "social": "Channel::Api"}
SIGN_IN = {"error": "You need to sign in or sign up before continuing."}
NOT_FOUND = {"error": "Resource could not be found"}


@dataclass
class Seen:
    """One request as the fake received it (what the tests check the adapter sent)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float


@dataclass
class CableClient:
    writer: asyncio.StreamWriter
    protocol: ServerProtocol
    identifier: str = ""
    user_id: int = 0
    pinger: asyncio.Task[None] | None = None

    def send(self, frame: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(frame).encode())
        self.flush()

    def flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.writer.write(chunk)
            elif not self.writer.is_closing():
                self.writer.close()


@dataclass
class FakeChatwoot(FakeServer):
    account: int = 1
    ping_every: float = 3.0
    check_spec: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    inboxes: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    cable_refused: bool = False
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    reject_subscriptions: bool = False
    csat: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._csat_ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._cable: list[CableClient] = []
        self._order: dict[str, list[dict[str, Any]]] | None = None
        self._contact_keys: dict[str, int] = {}
        self.checker: SpecChecker | None = None
        self.me = self.add_user("Ann Agent", "ann@example.test")
        self.colleague = self.add_user("contract-colleague", "colleague@example.test")
        for number, name in enumerate(("Billing", "contract"), 1):
            self.teams[number] = {"id": number, "name": name, "description": None, "allow_auto_assign": False,
                                  "account_id": self.account, "is_member": True}
        for number, (kind, name) in enumerate((("chat", "Website"), ("email", "Support mail"), ("social", "API")), 1):
            self.inboxes[number] = {"id": number, "name": name, "channel_type": CHANNEL_TYPES[kind]}

    # ---------------------------------------------------------------------------------- life cycle

    @property
    def token(self) -> str:
        return str(self.users[self.me]["access_token"])

    @property
    def violations(self) -> list[Any]:
        return self.checker.violations if self.checker else []

    def _started(self) -> None:
        if self.check_spec and self.checker is None:
            self.checker = SpecChecker(self.base_url)

    def _cut(self) -> None:
        for client in list(self._cable):
            if client.pinger:
                client.pinger.cancel()
        self._cable.clear()

    def drop_cable(self) -> None:
        """Cut every websocket (as a restarted proxy does); REST goes on answering."""
        for client in list(self._cable):
            if client.pinger:
                client.pinger.cancel()
            client.writer.transport.abort()
        self._cable.clear()

    def disconnect_cable(self, reason: str, *, reconnect: bool) -> None:
        for client in list(self._cable):
            client.send({"type": "disconnect", "reason": reason, "reconnect": reconnect})
            client.protocol.send_close(1000)
            client.flush()
        self._cable.clear()

    # ---------------------------------------------------------------------------------- the world

    def add_user(self, name: str, email: str) -> int:
        user_id = next(self._ids) if not self.users else max(self.users) + 1
        self.users[user_id] = {
            "id": user_id, "name": name, "email": email, "availability": "online",
            "access_token": f"tok-{secrets.token_hex(12)}", "pubsub_token": f"pub-{secrets.token_hex(12)}",
        }
        return user_id

    def _contact(self, name: str) -> int:
        known = self._contact_keys.get(name)
        if known is not None:
            return known
        contact_id = len(self.contacts) + 1
        self._contact_keys[name] = contact_id
        self.contacts[contact_id] = {"id": contact_id, "key": name, "name": name.title(),
                                     "email": f"{name}@customer.test"}
        return contact_id

    def _now(self, conversation: dict[str, Any] | None = None) -> float:
        now = time.time()
        if conversation is not None:  # updated_at only goes up, even within one clock tick
            now = max(now, conversation["updated_at"] + 0.001)
        return now

    def add_conversation(self, channel: str, subject: str, body: str, customer: str = "ann",
                         *, status: str = "open", broadcast: bool = True, at: float | None = None) -> int:
        inbox = next(i for i in self.inboxes.values() if i["channel_type"] == CHANNEL_TYPES[channel])
        display = len(self.conversations) + 1
        now = at if at is not None else time.time()
        conversation = {
            "id": display, "inbox_id": inbox["id"], "contact_id": self._contact(customer), "status": status,
            "assignee_id": None, "team_id": None, "priority": None, "labels": [], "snoozed_until": None,
            "created_at": now, "updated_at": now, "last_activity_at": now, "unread_count": 0,
            "first_reply_created_at": None, "uuid": secrets.token_hex(8),
            "additional_attributes": {"mail_subject": subject} if channel == "email" else {},
            "custom_attributes": {} if channel == "email" else {"subject": subject},
        }
        self.conversations[display] = conversation
        self.messages[display] = []
        self._order = None
        if broadcast:
            self.broadcast("conversation.created", self.conversation_json(conversation))
        self._add_message(conversation, body, kind=0, sender=None, broadcast=broadcast)
        return display

    def customer_rates(self, display: int, rating: int, feedback: str | None = None, *, at: float | None = None) -> int:
        """The contact answers the CSAT survey of a conversation (as Chatwoot's survey page records it: the
        rating, the feedback, the agent then assigned, the survey message it answers)."""
        conversation = self.conversations[display]
        survey = next(self._message_ids)
        number = next(self._csat_ids)
        self.csat.append({"id": number, "rating": rating, "feedback_message": feedback, "message_id": survey,
                          "conversation": display, "contact_id": conversation["contact_id"],
                          "assignee_id": conversation["assignee_id"],
                          "created_at": int(time.time() if at is None else at)})
        return number

    def csat_json(self, response: dict[str, Any]) -> dict[str, Any]:
        """app/views/api/v1/models/_csat_survey_response.json.jbuilder: contact and agent only when set."""
        out: dict[str, Any] = {"id": response["id"], "rating": response["rating"],
                               "feedback_message": response["feedback_message"], "account_id": self.account,
                               "message_id": response["message_id"]}
        if response["contact_id"] in self.contacts:
            contact = self.contacts[response["contact_id"]]
            out["contact"] = {"id": contact["id"], "name": contact["name"], "email": contact["email"],
                              "phone_number": None}
        out["conversation_id"] = response["conversation"]
        if response["assignee_id"] is not None:
            out["assigned_agent"] = self.agent_json(response["assignee_id"])
        out["created_at"] = response["created_at"]
        return out

    def _csat_list(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """CsatSurveyResponsesController#index: the range only with both `since` and `until` (since...until,
        Unix seconds), in the order they were recorded, pages of 25."""
        chosen = list(self.csat)
        if query.get("since") and query.get("until"):
            since, until = int(query["since"]), int(query["until"])
            chosen = [r for r in chosen if since <= r["created_at"] < until]
        page = int(query.get("page") or 1)
        return [self.csat_json(r) for r in chosen[(page - 1) * 25 : page * 25]]

    async def new_conversation(self, channel: str, subject: str, body: str, customer: str = "ann") -> int:
        return self.add_conversation(channel, subject, body, customer)

    async def customer_writes(self, display: int, body: str, files: dict[str, bytes] | None = None) -> None:
        conversation = self.conversations[display]
        self._add_message(conversation, body, kind=0, sender=None, files=files)
        if conversation["status"] in ("resolved", "snoozed"):
            # Chatwoot reopens a resolved or snoozed conversation when the contact writes.
            self._set_status(conversation, "open", by=None)

    def _add_message(self, conversation: dict[str, Any], content: str, *, kind: int, sender: int | None,
                     private: bool = False, broadcast: bool = True,
                     files: dict[str, bytes] | None = None) -> dict[str, Any]:
        now = self._now(conversation)
        message = {"id": next(self._message_ids), "content": content, "message_type": kind, "private": private,
                   "created_at": int(now), "sender": sender, "conversation": conversation["id"],
                   "files": dict(files or {})}
        for name, data in message["files"].items():
            self.files[f"{message['id']}/{name}"] = data
        self.messages[conversation["id"]].append(message)
        conversation["last_activity_at"] = now
        if kind == 0:
            conversation["unread_count"] += 1
        elif kind == 1 and not private and conversation["first_reply_created_at"] is None:
            conversation["first_reply_created_at"] = now
        self._order = None
        if broadcast:
            data = self.message_json(message)
            data["conversation"] = {"assignee_id": conversation["assignee_id"],
                                    "unread_count": conversation["unread_count"],
                                    "last_activity_at": int(conversation["last_activity_at"])}
            self.broadcast("message.created", data)
        return message

    def _activity(self, conversation: dict[str, Any], text: str) -> None:
        self._add_message(conversation, text, kind=2, sender=None)

    def _changed(self, conversation: dict[str, Any], event: str) -> None:
        conversation["updated_at"] = self._now(conversation)
        self._order = None
        self.broadcast(event, self.conversation_json(conversation))

    def _set_status(self, conversation: dict[str, Any], status: str, *, by: int | None,
                    until: float | None = None) -> None:
        conversation["status"] = status
        conversation["snoozed_until"] = until if status == "snoozed" else None
        self._changed(conversation, "conversation.status_changed")
        who = self.users[by]["name"] if by else "the system"
        self._activity(conversation, f"Conversation was marked {status} by {who}")

    # ---------------------------------------------------------------------------------- JSON

    def user_json(self, user_id: int, *, private: bool = False) -> dict[str, Any]:
        user = self.users[user_id]
        out: dict[str, Any] = {
            "id": user_id, "account_id": self.account, "available_name": user["name"], "avatar_url": "",
            "confirmed": True, "display_name": None, "message_signature": None, "email": user["email"],
            "name": user["name"], "provider": "email", "role": "agent", "ui_settings": {}, "uid": user["email"],
            "type": None,
        }
        if private:  # only the profile carries the user's own tokens
            out |= {"access_token": user["access_token"], "pubsub_token": user["pubsub_token"],
                    "hmac_identifier": "", "inviter_id": None,
                    "accounts": [{"id": self.account, "name": "Fake", "status": "active", "active_at": None,
                                  "role": "agent", "permissions": ["agent"], "availability": user["availability"],
                                  "availability_status": user["availability"], "auto_offline": True,
                                  "custom_role_id": None, "custom_role": None}]}
        return out

    def agent_json(self, user_id: int) -> dict[str, Any]:
        user = self.users[user_id]
        status = {"online": "available"}.get(user["availability"], user["availability"])
        return {"id": user_id, "account_id": self.account, "availability_status": status, "auto_offline": True,
                "confirmed": True, "email": user["email"], "available_name": user["name"], "name": user["name"],
                "role": "agent", "thumbnail": "", "custom_role_id": None}

    def contact_json(self, contact_id: int) -> dict[str, Any]:
        contact = self.contacts[contact_id]
        return {"additional_attributes": {}, "availability_status": "offline", "email": contact["email"],
                "id": contact_id, "name": contact["name"], "phone_number": "", "blocked": False,
                "identifier": "", "thumbnail": "", "custom_attributes": {}, "last_activity_at": int(time.time()),
                "created_at": int(time.time())}

    def message_json(self, message: dict[str, Any]) -> dict[str, Any]:
        conversation = self.conversations[message["conversation"]]
        sender = message["sender"]
        if message["message_type"] == 0:
            contact = self.contacts[conversation["contact_id"]]
            who: dict[str, Any] = {"id": contact["id"], "name": contact["name"], "email": contact["email"],
                                   "type": "contact"}
            sender_type, sender_id = "Contact", contact["id"]
        elif sender is not None:
            user = self.users[sender]
            who = {"id": sender, "name": user["name"], "available_name": user["name"], "email": user["email"],
                   "type": "user"}
            sender_type, sender_id = "User", sender
        else:
            who, sender_type, sender_id = {}, None, None
        return {
            "id": message["id"], "content": message["content"], "account_id": self.account,
            "inbox_id": conversation["inbox_id"], "conversation_id": conversation["id"],
            "message_type": message["message_type"], "created_at": message["created_at"],
            "updated_at": message["created_at"], "private": message["private"], "status": "sent",
            "source_id": None, "content_type": "text", "content_attributes": {}, "sender_type": sender_type,
            "sender_id": sender_id, "external_source_ids": {}, "additional_attributes": {},
            "processed_message_content": message["content"], "sentiment": {}, "sender": who,
            "attachments": [
                {"id": n, "message_id": message["id"], "file_type": "file", "account_id": self.account,
                 "extension": name.rpartition(".")[2], "file_size": len(data), "thumb_url": "",
                 "data_url": f"{self.base_url}/rails/active_storage/blobs/redirect/{message['id']}/{quote(name)}"}
                for n, (name, data) in enumerate(message["files"].items(), 1)
            ],
        }

    def conversation_json(self, conversation: dict[str, Any]) -> dict[str, Any]:
        inbox = self.inboxes[conversation["inbox_id"]]
        messages = self.messages.get(conversation["id"]) or []
        last = next((m for m in reversed(messages) if m["message_type"] != 2), None)
        meta: dict[str, Any] = {"sender": self.contact_json(conversation["contact_id"]),
                                "channel": inbox["channel_type"], "hmac_verified": False}
        if conversation["assignee_id"]:
            meta["assignee"] = self.user_json(conversation["assignee_id"])
        if conversation["team_id"]:
            meta["team"] = self.teams[conversation["team_id"]]
        return {
            "id": conversation["id"], "account_id": self.account, "uuid": conversation["uuid"],
            "additional_attributes": conversation["additional_attributes"], "agent_last_seen_at": 0,
            "assignee_last_seen_at": 0, "can_reply": True, "contact_last_seen_at": 0,
            "custom_attributes": conversation["custom_attributes"], "inbox_id": conversation["inbox_id"],
            "labels": list(conversation["labels"]), "muted": False, "snoozed_until": conversation["snoozed_until"],
            "status": conversation["status"], "created_at": conversation["created_at"],
            "updated_at": conversation["updated_at"], "timestamp": conversation["last_activity_at"],
            "first_reply_created_at": conversation["first_reply_created_at"],
            "unread_count": conversation["unread_count"],
            "last_non_activity_message": self.message_json(last) if last else None,
            "last_activity_at": conversation["last_activity_at"], "priority": conversation["priority"],
            "waiting_since": None, "sla_policy_id": None, "applied_sla": {}, "sla_events": [],
            "messages": [self.message_json(messages[-1])] if messages else [], "meta": meta,
        }

    # ---------------------------------------------------------------------------------- cable

    def broadcast(self, event: str, data: dict[str, Any]) -> None:
        for client in list(self._cable):
            if client.identifier:
                with contextlib.suppress(Exception):
                    client.send({"identifier": client.identifier, "message": {"event": event, "data": data}})

    async def _cable_session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> None:
        protocol = ServerProtocol()
        protocol.receive_data(head)  # the upgrade request, read already: the protocol parses it again
        request = next(e for e in protocol.events_received() if isinstance(e, Request))
        response = protocol.accept(request)
        protocol.send_response(response)
        client = CableClient(writer, protocol)
        client.flush()
        if response.status_code != 101:
            return
        self._cable.append(client)
        client.send({"type": "welcome"})
        client.pinger = asyncio.create_task(self._ping(client))
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    protocol.receive_eof()
                else:
                    protocol.receive_data(data)
                for frame in protocol.events_received():
                    if isinstance(frame, Frame) and frame.opcode is Opcode.TEXT:
                        self._cable_command(client, json.loads(frame.data.decode()))
                client.flush()
                if not data or protocol.close_code is not None:
                    return
        finally:
            if client.pinger:
                client.pinger.cancel()
            if client in self._cable:
                self._cable.remove(client)

    def _cable_command(self, client: CableClient, command: dict[str, Any]) -> None:
        if command.get("command") != "subscribe":
            return
        identifier = str(command.get("identifier") or "")
        try:
            wanted = json.loads(identifier)
        except ValueError:
            wanted = {}
        user = next((u for u in self.users.values() if u["pubsub_token"] == wanted.get("pubsub_token")), None)
        if wanted.get("channel") != "RoomChannel" or user is None or self.reject_subscriptions:
            client.send({"identifier": identifier, "type": "reject_subscription"})
            return
        client.identifier, client.user_id = identifier, user["id"]
        client.send({"identifier": identifier, "type": "confirm_subscription"})

    async def _ping(self, client: CableClient) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.ping_every)
                client.send({"type": "ping", "message": int(time.time())})

    # ---------------------------------------------------------------------------------- HTTP

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: helpdesk_fake.Request
    ) -> bool:
        lower = request.headers
        url = urlsplit(request.target)
        if url.path == "/cable" and lower.get("upgrade", "").lower() == "websocket":
            if self.cable_refused:  # a proxy in front of a cable server that is down
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return False
            await self._cable_session(reader, writer, request.head)
            return False
        body = await reader.readexactly(int(lower.get("content-length") or 0))
        if url.path.startswith("/rails/active_storage/"):
            # Files are not the API: ActiveStorage's redirect, then the bytes (not in the document).
            writer.write(self._file(url.path))
            await writer.drain()
            return True
        status, reply, extra = self._handle(request.method, url.path, dict(parse_qsl(url.query)), lower, body)
        await answer(writer, status, reply, extra)
        return True

    def _file(self, path: str) -> bytes:
        redirect, disk = "/rails/active_storage/blobs/redirect/", "/rails/active_storage/disk/"
        key = unquote(path.removeprefix(redirect).removeprefix(disk))
        if path.startswith(redirect):
            return (f"HTTP/1.1 302 Found\r\nLocation: /rails/active_storage/disk/{quote(key)}\r\n"
                    "Content-Length: 0\r\n\r\n").encode()
        data = self.files.get(key)
        if data is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        return f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data

    def _handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                body: bytes) -> tuple[int, Any, dict[str, str]]:
        if headers.get("content-type", "").startswith("multipart/form-data"):
            parsed: Any = self._form(headers["content-type"], body)
        else:
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
        self.seen.append(Seen(method, path, query, parsed, time.monotonic()))
        fault = self.fault_for(method, path)
        if fault is not None:
            return fault.status, fault.body, fault.headers
        if self.checker is not None:
            why = self.checker.request(method, path, query, headers, body)
            if why is not None:
                return 400, {"description": "request not allowed by the OpenAPI document", "errors": []}, {}
        status, answer = self._route(method, path, query, headers, parsed)
        if self.checker is not None:
            data = b"" if answer is None else json.dumps(answer).encode()
            self.checker.response(method, path, query, headers, body, status, data)
        return status, answer, {}

    @staticmethod
    def _form(content_type: str, body: bytes) -> dict[str, Any]:
        """A multipart/form-data body: its fields as text, its files under "files" as {name: bytes}."""
        message = BytesParser(policy=default).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        form: dict[str, Any] = {"files": {}}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename():
                form["files"][part.get_filename()] = data
            elif name:
                form[str(name)] = data.decode()
        return form

    def _user_of(self, headers: dict[str, str]) -> int | None:
        token = headers.get("api_access_token")
        return next((uid for uid, u in self.users.items() if token and u["access_token"] == token), None)

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: Any) -> tuple[int, Any]:
        user = self._user_of(headers)
        if user is None:
            return 401, SIGN_IN
        if path == "/api/v1/profile" and method == "GET":
            return 200, self.user_json(user, private=True)
        if path == "/api/v1/profile/availability" and method == "POST":
            self.users[user]["availability"] = body["profile"]["availability"]
            self.broadcast("presence.update", {"account_id": self.account, "contacts": {},
                                               "users": {str(user): self.users[user]["availability"]}})
            return 200, self.user_json(user, private=True)
        base = f"/api/v1/accounts/{self.account}"
        if not path.startswith(base + "/") and path != base:
            return 404, NOT_FOUND
        rest = path[len(base):]
        if rest == "/inboxes" and method == "GET":
            return 200, {"payload": list(self.inboxes.values())}
        if rest == "/teams" and method == "GET":
            return 200, list(self.teams.values())
        if rest == "/agents" and method == "GET":
            return 200, [self.agent_json(uid) for uid in self.users]
        if rest == "/conversations" and method == "GET":
            return 200, self._list(query, user)
        if rest == "/csat_survey_responses" and method == "GET":
            return 200, self._csat_list(query)
        contact = re.fullmatch(r"/contacts/(\d+)/conversations", rest)
        if contact and method == "GET":
            if int(contact.group(1)) not in self.contacts:
                return 404, NOT_FOUND
            theirs = [c for c in self._sorted("all") if c["contact_id"] == int(contact.group(1))]
            return 200, {"payload": [self.conversation_json(c) for c in theirs]}
        match = re.fullmatch(r"/conversations/(\d+)(/[a-z_]+)?", rest)
        if not match:
            return 404, NOT_FOUND
        conversation = self.conversations.get(int(match.group(1)))
        if conversation is None:
            return 404, NOT_FOUND
        action = match.group(2) or ""
        handler: Callable[[], tuple[int, Any]] | None = {
            ("GET", ""): lambda: (200, self.conversation_json(conversation)),
            ("GET", "/messages"): lambda: (200, self._messages(conversation, query)),
            ("POST", "/messages"): lambda: self._post_message(conversation, user, body),
            ("POST", "/toggle_status"): lambda: self._toggle_status(conversation, user, body),
            ("POST", "/toggle_priority"): lambda: self._toggle_priority(conversation, body),
            ("POST", "/toggle_typing_status"): lambda: self._agent_typing(conversation, user, body),
            ("POST", "/assignments"): lambda: self._assign(conversation, user, body),
            ("GET", "/labels"): lambda: (200, {"payload": list(conversation["labels"])}),
            ("POST", "/labels"): lambda: self._labels(conversation, body),
        }.get((method, action))
        return handler() if handler else (404, NOT_FOUND)

    def _sorted(self, status: str) -> list[dict[str, Any]]:
        """Chatwoot's default sort, latest activity first, of one status; kept until something changes."""
        if self._order is None:
            self._order = {}
        if status not in self._order:
            every = sorted(self.conversations.values(), key=lambda c: -c["last_activity_at"])
            self._order[status] = [c for c in every if status == "all" or c["status"] == status]
        return self._order[status]

    def _list(self, query: dict[str, str], user: int) -> dict[str, Any]:
        status = query.get("status", "open")
        page = max(1, int(query.get("page", 1)))
        matching = self._sorted(status)
        if query.get("q"):  # as Chatwoot's ConversationFinder: messages.content ILIKE '%q%'
            needle = query["q"].lower()
            matching = [c for c in matching
                        if any(needle in (m["content"] or "").lower() for m in self.messages[c["id"]])]
        assignee = query.get("assignee_type", "all")
        mine = sum(1 for c in matching if c["assignee_id"] == user)
        unassigned = sum(1 for c in matching if c["assignee_id"] is None)
        chosen = matching if assignee == "all" else [
            c for c in matching
            if (assignee == "me" and c["assignee_id"] == user)
            or (assignee == "unassigned" and c["assignee_id"] is None)
            or (assignee == "assigned" and c["assignee_id"] is not None)
        ]
        payload = [self.conversation_json(c) for c in chosen[(page - 1) * 25: page * 25]]
        return {"data": {"meta": {"mine_count": mine, "unassigned_count": unassigned,
                                  "assigned_count": len(matching) - unassigned, "all_count": len(matching)},
                         "payload": payload}}

    def _messages(self, conversation: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        every = self.messages[conversation["id"]]
        if "after" in query:
            chosen = [m for m in every if m["id"] > int(query["after"])][:100]
        elif "before" in query:
            chosen = [m for m in every if m["id"] < int(query["before"])][-20:]
        else:
            chosen = every[-20:]
        meta: dict[str, Any] = {"labels": list(conversation["labels"]), "additional_attributes": {},
                                "contact": {"payload": [self.contact_json(conversation["contact_id"])]},
                                "agent_last_seen_at": None, "assignee_last_seen_at": None}
        if conversation["assignee_id"]:
            meta["assignee"] = self.agent_json(conversation["assignee_id"])
        return {"meta": meta, "payload": [self.message_json(m) for m in chosen]}

    def _post_message(self, conversation: dict[str, Any], user: int, body: dict[str, Any]) -> tuple[int, Any]:
        kind = 0 if body.get("message_type") == "incoming" else 1
        private = body.get("private") in (True, "true")  # a JSON boolean, or a form's text
        message = self._add_message(conversation, body.get("content") or "", kind=kind, sender=user,
                                    private=private, files=body.get("files"))
        return 200, self.message_json(message)

    def _toggle_status(self, conversation: dict[str, Any], user: int, body: dict[str, Any]) -> tuple[int, Any]:
        self._set_status(conversation, body["status"], by=user, until=body.get("snoozed_until"))
        return 200, {"meta": {}, "payload": {"success": True, "current_status": conversation["status"],
                                             "conversation_id": conversation["id"]}}

    def _toggle_priority(self, conversation: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        priority = body["priority"]
        conversation["priority"] = None if priority == "none" else priority
        self._changed(conversation, "conversation.updated")
        return 200, None

    def _assign(self, conversation: dict[str, Any], user: int, body: dict[str, Any]) -> tuple[int, Any]:
        # As Chatwoot's AssignmentsController: assignee_id first (an id naming no user unassigns), else team_id.
        by = self.users[user]["name"]
        if "assignee_id" not in body and "team_id" in body:
            team = int(body["team_id"] or 0)
            conversation["team_id"] = team if team in self.teams else None
            self._changed(conversation, "team.changed")
            if conversation["team_id"]:
                self._activity(conversation, f"Assigned to {self.teams[team]['name']} team by {by}")
                return 200, self.teams[team]
            return 200, {}
        assignee = int(body.get("assignee_id") or 0)
        conversation["assignee_id"] = assignee if assignee in self.users else None
        self._changed(conversation, "assignee.changed")
        if conversation["assignee_id"]:
            self._activity(conversation, f"Assigned to {self.users[assignee]['name']} by {by}")
            return 200, self.user_json(assignee)
        self._activity(conversation, f"Conversation unassigned by {by}")
        return 200, {}

    def _labels(self, conversation: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        conversation["labels"] = list(dict.fromkeys(body["labels"]))
        self._changed(conversation, "conversation.updated")
        return 200, {"payload": list(conversation["labels"])}

    def _agent_typing(self, conversation: dict[str, Any], user: int, body: dict[str, Any]) -> tuple[int, Any]:
        # Chatwoot broadcasts an agent's typing to the account's agents (the dashboard shows it).
        name = self.users[user]["name"]
        self.broadcast("conversation.typing_on" if body["typing_status"] == "on" else "conversation.typing_off",
                       {"conversation": self.conversation_json(conversation), "is_private": bool(body.get("is_private")),
                        "user": {"id": user, "name": name, "available_name": name, "type": "user"}})
        return 200, None

    def typing(self, display: int, on: bool) -> None:
        conversation = self.conversations[display]
        contact = self.contacts[conversation["contact_id"]]
        self.broadcast("conversation.typing_on" if on else "conversation.typing_off",
                       {"conversation": self.conversation_json(conversation), "is_private": False,
                        "user": {"id": contact["id"], "name": contact["name"], "type": "contact"}})


__all__ = ["CHANNEL_TYPES", "FakeChatwoot", "Seen"]
