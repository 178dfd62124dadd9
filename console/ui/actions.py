"""Every action the console offers, in one table: key bindings, `:` commands, the palette and `?` help.

An action has a stable id (`queue.down`, `call.hold`): the id is what users remap in `[keys]` of their
config (Textual `Binding(id=...)` + `App.set_keymap`), what the `:` command line completes, and what
the palette lists. `command` names the backend capability it needs, so the UI offers only what the backend
can do and says so otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from ...backends.base import CommandKind


@dataclass(frozen=True, slots=True)
class ConsoleAction:
    id: str
    keys: str  # default keys, comma-separated (Textual key names)
    action: str  # the Textual action it runs (on the workspace screen unless prefixed `app.`)
    title: str
    help: str
    group: str
    command: CommandKind | None = None  # the backend capability it needs
    show: bool = False  # shown in the footer

    @property
    def name(self) -> str:
        """The `:` command name: the id's last part, with dashes (`call.hang_up` -> `hang-up`)."""
        return self.id.rpartition(".")[2].replace("_", "-")

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.title, show=self.show, id=self.id)


ACTIONS: tuple[ConsoleAction, ...] = (
    # moving around
    ConsoleAction("queue.down", "j,down", "cursor_down", "Down", "Move to the next item", "Move"),
    ConsoleAction("queue.up", "k,up", "cursor_up", "Up", "Move to the previous item", "Move"),
    ConsoleAction("queue.top", "g,home", "cursor_top", "Top", "Jump to the first item", "Move"),
    ConsoleAction("queue.bottom", "G,end", "cursor_bottom", "Bottom", "Jump to the last item", "Move"),
    ConsoleAction(
        "queue.page_down", "pagedown,ctrl+d", "page_down", "Page down", "Move one page down", "Move"
    ),
    ConsoleAction("queue.page_up", "pageup,ctrl+u", "page_up", "Page up", "Move one page up", "Move"),
    ConsoleAction("queue.open", "enter", "open", "Open", "Open the item under the cursor", "Move", show=True),
    ConsoleAction(
        "queue.back", "escape", "back", "Back", "Close the detail, the filter or the prompt", "Move"
    ),
    ConsoleAction(
        "view.all", "1", "view('all')", "All", "The unified queue: every channel", "Views", show=True
    ),
    ConsoleAction("view.phone", "2", "view('phone')", "Phone", "The phone queue", "Views"),
    ConsoleAction("view.chat", "3", "view('chat')", "Chats", "Chat sessions", "Views"),
    ConsoleAction("view.email", "4", "view('email')", "Email", "The inbox: email, forms, social", "Views"),
    ConsoleAction("view.callbacks", "5", "view('callbacks')", "Callbacks", "Callback requests", "Views"),
    ConsoleAction(
        "view.everyone", "6", "view('everyone')", "Everyone", "All open items, whoever owns them", "Views"
    ),
    ConsoleAction(
        "view.filter",
        "slash",
        "filter",
        "Filter",
        "Filter the list as you type (lang:de ...)",
        "Views",
        show=True,
    ),
    ConsoleAction(
        "view.search",
        "ctrl+f",
        "search",
        "Search",
        "Search every conversation, open and closed, and every message",
        "Views",
    ),
    ConsoleAction(
        "view.command",
        "colon",
        "command_line",
        "Command",
        "Type a command, with completion",
        "Views",
        show=True,
    ),
    ConsoleAction(
        "view.next_activity",
        "tab",
        "next_activity",
        "Next activity",
        "Jump to the next item with unread activity",
        "Views",
    ),
    ConsoleAction(
        "app.help", "question_mark", "app.help", "Help", "Show the keys active here", "Views", show=True
    ),
    ConsoleAction("app.wallboard", "W", "app.wallboard", "Wallboard", "The supervisor wallboard", "Views"),
    ConsoleAction(
        "app.outbox",
        "O",
        "app.outbox",
        "Outbox",
        "What is not delivered yet (queued, retrying, failed): retry, edit, discard",
        "Views",
    ),
    ConsoleAction(
        "app.quit",
        "ctrl+q,ctrl+c",
        "app.quit",
        "Quit",
        "Leave the console (asks first when it would cut off live chats or held sends)",
        "Views",
    ),
    # working a conversation
    ConsoleAction(
        "work.next",
        "n",
        "next_best",
        "Next",
        "Take the next item you should handle",
        "Work",
        CommandKind.CLAIM,
        show=True,
    ),
    ConsoleAction(
        "work.accept",
        "a",
        "accept",
        "Accept",
        "Answer the call or chat, take the item",
        "Work",
        CommandKind.ACCEPT,
        show=True,
    ),
    ConsoleAction(
        "work.reply", "r", "reply", "Reply", "Write to the customer", "Work", CommandKind.REPLY, show=True
    ),
    ConsoleAction(
        "work.reply_all",
        "R",
        "reply_all",
        "Reply all",
        "Reply to everyone on the email",
        "Work",
        CommandKind.REPLY,
    ),
    ConsoleAction("work.forward", "f", "forward", "Forward", "Forward the email", "Work", CommandKind.REPLY),
    ConsoleAction("work.note", "N", "note", "Note", "Add an internal note", "Work", CommandKind.NOTE),
    ConsoleAction("work.claim", "c", "claim", "Claim", "Take this item", "Work", CommandKind.CLAIM),
    ConsoleAction(
        "work.history",
        "C",
        "history",
        "Customer's contacts",
        "Every contact of this customer, across channels and workspaces, newest first; enter opens one",
        "Work",
    ),
    ConsoleAction(
        "work.timeline",
        "T",
        "timeline",
        "Customer's timeline",
        "Every contact of this customer as one thread in time order, messages interleaved; enter opens one",
        "Work",
    ),
    ConsoleAction(
        "work.reopen",
        "X",
        "reopen",
        "Reopen",
        "Reopen a solved email, form or social message",
        "Work",
        CommandKind.SET_STATUS,
    ),
    ConsoleAction(
        "work.release",
        "u",
        "release",
        "Release",
        "Give the item back to the queue",
        "Work",
        CommandKind.RELEASE,
    ),
    ConsoleAction(
        "work.transfer",
        "t",
        "transfer",
        "Transfer",
        "Transfer to an agent or a queue",
        "Work",
        CommandKind.TRANSFER,
    ),
    ConsoleAction(
        "work.close",
        "x",
        "close",
        "Close",
        "Resolve / end / wrap up",
        "Work",
        CommandKind.SET_STATUS,
        show=True,
    ),
    ConsoleAction("work.tag", "plus", "tag", "Tag", "Add or remove tags", "Work", CommandKind.TAGS),
    ConsoleAction(
        "work.priority", "p", "priority", "Priority", "Pick the priority", "Work", CommandKind.SET_PRIORITY
    ),
    ConsoleAction("work.snooze", "z", "snooze", "Snooze", "Hide until a time", "Work", CommandKind.SNOOZE),
    ConsoleAction(
        "call.hold", "h", "hold", "Hold", "Put the call on hold or resume it", "Call", CommandKind.HOLD
    ),
    ConsoleAction("call.mute", "m", "mute", "Mute", "Mute or unmute the call", "Call", CommandKind.MUTE),
    ConsoleAction(
        "call.dtmf",
        "number_sign",
        "dtmf",
        "Tones",
        "Key tones into the customer's line (an IVR menu, a PIN): :dtmf 1234",
        "Call",
        CommandKind.SEND_DTMF,
    ),
    ConsoleAction(
        "call.hang_up",
        "H",
        "hang_up",
        "Hang up",
        "End the call and start the wrap-up",
        "Call",
        CommandKind.HANG_UP,
    ),
    ConsoleAction(
        "callback.dial", "d", "dial", "Dial", "Place the callback", "Call", CommandKind.PLACE_CALLBACK
    ),
    ConsoleAction(
        "callback.schedule",
        "s",
        "schedule",
        "Schedule",
        "Schedule the callback for a time",
        "Call",
        CommandKind.SCHEDULE_CALLBACK,
    ),
    ConsoleAction(
        "work.save_attachments",
        "S",
        "save_attachments",
        "Save attachments",
        "Save the conversation's attachments to a folder",
        "Work",
    ),
    ConsoleAction(
        "work.macro",
        "M",
        "macro",
        "Macro",
        "Canned responses and macros in the customer's language",
        "Work",
        CommandKind.REPLY,
        show=True,
    ),
    ConsoleAction(
        "work.mark",
        "space",
        "mark",
        "Mark",
        "Mark the row; close, tags, release and transfer then act on every marked one",
        "Work",
    ),
    ConsoleAction(
        "work.merge",
        "ctrl+g",
        "merge",
        "Merge",
        "Merge another conversation of this customer into it",
        "Work",
        CommandKind.MERGE,
    ),
    ConsoleAction(
        "view.missed", "7", "view('missed')", "Missed", "Missed and abandoned calls and chats", "Views"
    ),
    ConsoleAction(
        "view.snoozed", "8", "view('snoozed')", "Snoozed", "Snoozed items, with the time each wakes", "Views"
    ),
    *(
        ConsoleAction(
            f"chat.session_{n}",
            f"alt+{n}",
            f"chat_session({n})",
            f"Chat {n}",
            f"Jump to your chat session number {n}",
            "Chat",
        )
        for n in range(1, 10)
    ),
    ConsoleAction(
        "presence.cycle",
        "P",
        "presence",
        "Presence",
        "Set your presence",
        "You",
        CommandKind.PRESENCE,
        show=True,
    ),
)

BY_ID: dict[str, ConsoleAction] = {action.id: action for action in ACTIONS}
BY_NAME: dict[str, ConsoleAction] = {action.name: action for action in ACTIONS}
GROUPS: tuple[str, ...] = ("Move", "Views", "Work", "Call", "Chat", "You")
