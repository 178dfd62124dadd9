"""The call the agent is on: hold and resume, mute, tones (DTMF), hang up; a callback request: dial it,
schedule it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ...backends.base import (
    DTMF_DIGITS,
    CommandKind,
    HangUp,
    Hold,
    Mute,
    PlaceCallback,
    Resume,
    ScheduleCallback,
    SendDtmf,
)
from ..core.model import Channel, Conversation, State
from ..core.sla import parse_when
from .dialogs import TextDialog

if TYPE_CHECKING:
    from .workspace_view import WorkspaceView


class CallControls:
    def __init__(self, view: WorkspaceView) -> None:
        self.view = view

    def _call(self) -> Conversation | None:
        conversation = self.view.target()
        if conversation is not None and conversation.channel is not Channel.PHONE:
            self.view.notify("That works on a call.", severity="warning")
            return None
        return conversation

    def hold(self) -> None:
        call = self._call()
        if call is None:
            return
        if call.state is State.ON_HOLD:
            self.view.send(Resume(conversation_id=call.id), done="Resumed")
        elif self.view.guard(call, CommandKind.HOLD):
            self.view.send(Hold(conversation_id=call.id), done="On hold")

    def mute(self) -> None:
        call = self._call()
        if call and self.view.guard(call, CommandKind.MUTE):
            self.view.send(
                Mute(conversation_id=call.id, muted=not call.muted), done="Unmuted" if call.muted else "Muted"
            )

    def dtmf(self, digits: str | None = None) -> None:
        """Key tones into the customer's line (an IVR menu, a PIN): asks for them unless given (`:dtmf 1234`)."""
        call = self._call()
        if call is None or not self.view.guard(call, CommandKind.SEND_DTMF):
            return
        if call.state not in (State.CONNECTED, State.ON_HOLD):
            self.view.notify("Tones go on a call you are on.", severity="warning")
            return
        if digits is not None:
            self.dtmf_on(call.id, digits)
            return
        self.view.ask(
            TextDialog("Tones to send (0-9 * # A-D, w pauses 0.5 s, W 1 s)", placeholder="1234#"),
            lambda text: text and self.dtmf_on(call.id, text),
        )

    def dtmf_on(self, cid: str, text: str) -> None:
        digits = text.strip()
        if not DTMF_DIGITS.fullmatch(digits):
            self.view.notify(
                "Not tones: up to 40 of 0-9 * # A-D, w (0.5 s pause), W (1 s).", severity="warning"
            )
            return
        self.view.send(SendDtmf(conversation_id=cid, digits=digits), done=f"Sent {len(digits)} tones")  # not the digits: they may be a PIN

    def hang_up(self) -> None:
        call = self._call()
        if call and self.view.guard(call, CommandKind.HANG_UP):
            self.view.send(HangUp(conversation_id=call.id), done="Call ended: wrap up with x")

    def dial(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None:
            return
        if conversation.channel is not Channel.CALLBACK:
            view.notify("Dial works on a callback request.", severity="warning")
            return
        if view.guard(conversation, CommandKind.PLACE_CALLBACK):
            view.send(
                PlaceCallback(conversation_id=conversation.id),
                done=f"Dialling {conversation.callback_number}",
            )

    def schedule(self) -> None:
        view = self.view
        conversation = view.target()
        if conversation is None or conversation.channel is not Channel.CALLBACK:
            view.notify("Scheduling is for callback requests.", severity="warning")
            return
        view.ask(
            TextDialog("Call back at (HH:MM today, or in +30m / +2h)", placeholder="14:30"),
            lambda text: text and self.schedule_at(conversation.id, text),
        )

    def schedule_at(self, cid: str, text: str) -> None:
        at = parse_when(text, self.view.main.clock())
        if at is None:
            self.view.notify(f"Not a time: {text!r} (14:30, +30m, +2h)", severity="warning")
            return
        self.view.send(
            ScheduleCallback(conversation_id=cid, at=at),
            done="Callback scheduled for " + datetime.fromtimestamp(at).strftime("%a %H:%M"),
        )
