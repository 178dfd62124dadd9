"""One key at a time: a key typed ahead is handled only once the key before it has been, focus included.

Textual forwards each key to the widget focused *when the key is read* and checks the screen's bindings
only when the key has bubbled back up to the app, one message hop per widget. A burst of keys (a fast
typist, a paste of commands, a slow frame) is therefore all forwarded to the list before the `r` at its
head has opened the composer: the reply's letters run as list commands (`a` accepts, `x` closes), or land
nowhere. Here the app holds every key that arrives while an earlier one is still travelling, and lets the
next one go when the earlier one is done: stopped by the widget that used it, or handled by the app's
bindings (the binding's action, focus changes included, has run by then). A screen just pushed gets the
next key once it is mounted, so that its own focused widget receives it.

A paste (bracketed paste) takes its turn among the keys in the same way.

Letters typed into a text field (the composer, the prompt) do not wait for each other: the field takes
every printable key for its text, in its own queue's order, and text changes no focus. Only the first key
that is not text for it (enter, esc, ctrl+s) waits for the letters ahead of it.

An action whose result arrives later (`n` takes the next item through the backend, ctrl+o accepts an
offer) can `hold` the keys typed after it until that result shows: `n` then `r` replies to the item taken,
not to the row highlighted before. A hold lasts `HOLD_SECONDS` at most (a backend that slow lets the keys
go rather than freeze the keyboard).

A key whose journey could change nothing (no widget from the focused one up to the screen handles keys
itself, and none has a message waiting or a handler running) skips it: its binding runs at once, in the
state it would have found at the end of the trip.

A key whose journey ends unseen (its widget removed on the way) cannot hold the keyboard: after
`STALE_SECONDS` the next key goes anyway.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING

from textual import events
from textual.dom import DOMNode
from textual.message_pump import MessagePump, active_message_pump
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen
    from textual.timer import Timer

# Long enough for a loaded machine's slowest key (a key let go early is a key out of order), short enough
# that a key lost on the way (its widget removed) does not freeze the keyboard for long.
STALE_SECONDS = 2.0
WATCH_SECONDS = 0.25
MOUNT_POLL_SECONDS = 0.005
FOCUS_WAIT_SECONDS = 0.1
HOLD_SECONDS = 3.0


class OrderedKey(events.Key):
    """A key the order keeper follows: it says when a handler stops it."""

    def __init__(self, key: str, character: str | None, keeper: KeyOrder) -> None:
        super().__init__(key, character)
        # Sent by no widget, as the terminal's key it copies. Made in the app, it would name the app as its
        # sender, and Textual stops a message at the child of its sender: at the screen, before the app's
        # bindings, which would let the next key go before this one had done anything.
        self._sender = None
        self.keeper = keeper
        self.typed_on: Screen[object] | None = None  # the screen active when the key was handed out

    def stop(self, stop: bool = True) -> OrderedKey:
        super().stop(stop)
        if stop:
            # The widget that stops the key may still be in its handler: the next key goes once it returns.
            pump = active_message_pump.get(None)
            if pump is not None:
                pump.call_next(self.keeper.done, self)
            else:
                self.keeper.app.call_later(self.keeper.done, self)
        return self


# Handled exactly as the Key it copies: Message.__init_subclass__ would name it `on_ordered_key`.
OrderedKey.handler_name = events.Key.handler_name


class KeyOrder:
    def __init__(self, app: App[object], dispatch: Callable[[events.Event], Awaitable[None]]) -> None:
        self.app = app
        self._dispatch = dispatch  # the app's own handling of a key just read (Textual's App.on_event)
        self._pending: deque[OrderedKey | events.Paste] = deque()
        self._travelling: OrderedKey | None = None
        self._since = 0.0
        self._watchdog: Timer | None = None
        self._waited_for: Screen[object] | None = None  # the screen whose first focus the next key awaits
        self._waited_since = 0.0
        self._into: Widget | None = None  # the text field the travelling key is a letter for
        self._holds: dict[int, float] = {}  # open holds: id -> when it started
        self._next_hold = 0

    def wrap(self, event: events.Key) -> OrderedKey:
        return OrderedKey(event.key, event.character, self)

    async def arrived(self, key: OrderedKey) -> None:
        """A key read from the terminal: handle it now if nothing is ahead of it, else queue it."""
        if self._pending or self._held():
            ahead = True
        elif self._travelling is not None:
            # Not if it is one more letter for the text field the letter ahead of it went to.
            ahead = self._into is None or self._text_for(key) is not self._into
        else:
            ahead = False
        if ahead:
            self._pending.append(key)
            self._watch()
            return
        await self._send(key)

    async def pasted(self, paste: events.Paste) -> None:
        """A paste is text for the widget focused once the keys ahead of it are done (`r` then a paste:
        the composer gets it, not the list)."""
        if self._pending or self._held() or self._travelling is not None:
            self._pending.append(paste)
            self._watch()
            return
        await self._dispatch(paste)

    def _text_for(self, key: OrderedKey) -> Widget | None:
        """The focused text field, if it takes this key as text (then no binding can see the key)."""
        focused = self.app.focused
        if focused is not None and key.is_printable and focused.check_consume_key(key.key, key.character):
            return focused
        return None

    def hold(self) -> Callable[[], None]:
        """Keys typed from now on wait until the returned function is called (once is enough)."""
        self._next_hold += 1
        hold = self._next_hold
        self._holds[hold] = time.monotonic()
        self._watch()

        def resume() -> None:
            if self._holds.pop(hold, None) is not None:
                self.app.call_later(self._release)

        return resume

    def stale_screen(self, key: OrderedKey) -> bool:
        """The key reached the app's bindings after the screen it was typed on went away (a dialog it
        answered): it must not act on the screen below, where the same digit switches the view."""
        return key.typed_on is not None and key.typed_on is not self.app.screen

    def done(self, key: OrderedKey) -> None:
        """The key has been used (stopped by a widget, or it reached the app's bindings)."""
        if key is self._travelling:
            self._travelling = None
            self.app.call_later(self._release)

    async def _send(self, key: OrderedKey) -> None:
        key.typed_on = self.app.screen
        self._travelling = key
        self._into = self._text_for(key)
        self._since = time.monotonic()
        if await self._straight_to_bindings(key):
            self._travelling = None
            await self._release()
            return
        await self._dispatch(key)
        if not key.is_forwarded and self._travelling is key:
            self._travelling = None  # used on the spot (a priority binding): nothing travels
            await self._release()

    async def _straight_to_bindings(self, key: OrderedKey) -> bool:
        """Run the key's binding at once when its trip could change nothing: no widget from the focused
        one up to the screen handles keys itself, and none has a message waiting or a handler running, so
        the bindings it would reach after the trip are the same, in the same state. The trip (one message
        hop per widget, there and back to the app) was half a millisecond of each key's 3 ms."""
        app = self.app
        screen = app.screen
        focused = screen.focused
        chain = list(focused.ancestors_with_self) if focused is not None else [screen]
        names = (key.name, *key.name_aliases)
        for node in chain:
            if not keys_go_to_bindings(type(node), names) or not at_rest(node):
                return False
            if node is screen:
                break
        else:
            return False  # the focused widget is not on the active screen (being removed)
        app.app_focus = True
        check = app._check_bindings
        return await check(key.key, priority=True) or await check(key.key)

    def _held(self) -> bool:
        if not self._holds:
            return False
        now = time.monotonic()
        for hold, since in list(self._holds.items()):
            if now - since > HOLD_SECONDS:
                del self._holds[hold]
        return bool(self._holds)

    async def _release(self) -> None:
        if self._travelling is not None or not self._pending or self._held():
            return
        if not self._screen_ready():  # a dialog just pushed: its focused widget gets the next key
            self.app.set_timer(MOUNT_POLL_SECONDS, self._release)
            return
        event = self._pending.popleft()
        if isinstance(event, events.Paste):
            await self._dispatch(event)  # forwarded to the focused widget: what follows queues behind it
            await self._release()
            return
        await self._send(event)

    def _screen_ready(self) -> bool:
        """Mounted, and focused if it has anything to focus (a dialog focuses its list in `on_mount`)."""
        screen = self.app.screen
        if screen.focused is not None:
            return True
        if not screen.is_mounted:
            return time.monotonic() - self._since > STALE_SECONDS
        if screen is not self._waited_for:
            self._waited_for, self._waited_since = screen, time.monotonic()
        return not screen.focus_chain or time.monotonic() - self._waited_since > FOCUS_WAIT_SECONDS

    def _watch(self) -> None:
        if self._watchdog is None:
            self._watchdog = self.app.set_interval(WATCH_SECONDS, self._check_stale)

    async def _check_stale(self) -> None:
        if self._travelling is not None and time.monotonic() - self._since > STALE_SECONDS:
            self._travelling = None
            await self._release()
        elif self._travelling is None and self._pending and not self._held():
            await self._release()  # a hold ran out
        if self._travelling is None and not self._pending and not self._held() and self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None


@cache
def keys_go_to_bindings(cls: type, names: tuple[str, ...]) -> bool:
    """Whether a widget of this class passes these keys on untouched: no key handler of its own (Textual's
    `Widget._on_key` only looks for `key_<name>` methods), no `on_event` that could see them."""
    for klass in cls.__mro__:
        if klass in (Widget, DOMNode, MessagePump):
            break
        own = vars(klass)
        if any(name in own for name in ("on_key", "_on_key", "handle_key", "on_event", "_on_message")):
            return False
        decorated = own.get("_decorated_handlers") or {}
        if any(issubclass(events.Key, kind) for kind in decorated):
            return False
    return not any(hasattr(cls, f"key_{name}") or hasattr(cls, f"_key_{name}") for name in names)


def at_rest(node: MessagePump) -> bool:
    """Nothing queued for this widget, no callback waiting for its turn, and its message loop waiting for
    the next message (not inside a handler that awaits: the key would have waited for it to finish)."""
    queue = node._message_queue
    waiting = getattr(queue.ready_event, "_waiters", None)
    return queue.empty() and bool(waiting) and node._pending_message is None and not node._next_callbacks
