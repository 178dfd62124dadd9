"""Closing the conversation the agent is on: solve, end, wrap up with a disposition and a note, a
callback's outcome. What to send is decided in core (`closing.plan_for`); this asks what the plan needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...backends.base import CallbackOutcome, CommandKind, WrapUp
from ..core.closing import Ask, plan_for
from ..core.model import DEFAULT_DISPOSITIONS
from .dialogs import PickDialog, TextDialog

if TYPE_CHECKING:
    from .marked_rows import MarkedRows
    from .workspace_view import WorkspaceView


class ClosingFlow:
    def __init__(self, view: WorkspaceView, marks: MarkedRows) -> None:
        self.view = view
        self.marks = marks

    def close(self) -> None:
        view = self.view
        if self.marks.any:
            self.marks.close()
            return
        conversation = view.target()
        if conversation is None:
            return
        cid = conversation.id
        plan = plan_for(conversation)
        if plan.refusal:
            view.notify(plan.refusal, severity="information" if conversation.is_closed else "warning")
            return
        if plan.undoable:
            if view.guard(conversation, CommandKind.SET_STATUS):
                for command in plan.commands:
                    view.send(command, undo=True, done="Solved: survey sent")
            return
        for command in plan.commands:
            view.send(command)
        if plan.ask is Ask.DISPOSITION:
            self.ask_disposition(cid)
        elif plan.ask is Ask.CALLBACK_OUTCOME:
            view.ask(
                PickDialog(
                    "Callback outcome", [("yes", "Reached the customer"), ("no", "No answer: retry later")]
                ),
                lambda value: (
                    value
                    and view.send(
                        CallbackOutcome(conversation_id=cid, reached=value == "yes"), done="Outcome saved"
                    )
                ),
            )

    def ask_disposition(self, cid: str) -> None:
        view = self.view
        dispositions = view.main.config.dispositions or [(d.code, d.label) for d in DEFAULT_DISPOSITIONS]

        def chosen(code: str | None) -> None:
            if not code:
                view.notify("Still in wrap-up: press x to choose a disposition.")
                return

            def with_note(note: str | None) -> None:
                view.send(
                    WrapUp(conversation_id=cid, disposition=code, note=note or ""),
                    undo=True,
                    done=f"Wrapped up: {code}",
                )
                view.back()

            view.ask(TextDialog("Wrap-up note (optional, enter to finish)"), with_note)

        view.ask(PickDialog("Wrap-up: disposition", dispositions), chosen)
