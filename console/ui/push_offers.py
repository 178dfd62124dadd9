"""Push mode: instead of the agent pressing `n`, the console offers the next item, to accept or decline.

The offer itself (one item to one agent at a time, across every console of the workspace, with a timeout
and a cool-down after a decline) is the backend's `Offers` capability (backends/optional.py). Here: polling for an
offer once a second, showing it with its countdown (a banner that never takes the focus), and carrying out
the agent's answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...backends.base import Accept, BackendError
from ...backends.optional import Offer, OfferGone, Offers
from ...widgets.offer_banner import OfferBanner

if TYPE_CHECKING:
    from .host import ConsoleHost


class PushOffers:
    """Asks the workspace for an offer when this agent is free, and shows it."""

    def __init__(
        self, app: ConsoleHost, backend: Offers, banner: OfferBanner, show_taken: Callable[[str], None]
    ) -> None:
        self.app = app
        self.backend = backend
        self.banner = banner
        self.show_taken = show_taken
        self.showing: str | None = None
        self._asking = False

    async def poll(self) -> None:
        if self.showing is not None or self._asking or len(self.app.screen_stack) > 2:
            return  # one offer at a time, and never over a dialog the agent is using
        self._asking = True
        try:
            offer: Offer | None = await self.backend.offer_next(self.app.me, time.time(), self.app.config.routing)
        except BackendError:
            return
        finally:
            self._asking = False
        if offer is None:
            return
        conversation = self.app.store.conversations.get(offer.conversation_id)
        if conversation is None:
            return  # not loaded yet: asked again next second
        self.showing = offer.conversation_id
        self.app.bell() if self.app.config.bell else None
        self.banner.show(
            conversation,
            offer.expires_at,
            time.time,
            lambda answer: self._answered(offer.conversation_id, answer),
        )

    def _answered(self, conversation_id: str, accept: bool | None) -> None:
        # Accepted: the keys typed after ctrl+o are for the item taken, so they wait until it shows.
        resume = self.app.hold_keys() if accept else (lambda: None)
        self.app.run_worker(self._answer_then(conversation_id, accept, resume), group="offers")

    async def _answer_then(
        self, conversation_id: str, accept: bool | None, resume: Callable[[], None]
    ) -> None:
        try:
            await self._answer(conversation_id, accept)
        finally:
            resume()

    async def _answer(self, conversation_id: str, accept: bool | None) -> None:
        self.showing = None
        if accept is None:
            self.app.notify("The offer expired: it goes to someone else.", timeout=3)
            return
        try:
            if not accept:
                await self.backend.decline_offer(self.app.me, conversation_id)
                return
            taken = await self.backend.accept_offer(self.app.me, conversation_id)
            if taken.channel.is_live:
                await self.app.hub.perform(Accept(conversation_id=conversation_id))
        except OfferGone as gone:
            self.app.notify(f"Too late: {gone}", severity="warning")
            return
        except BackendError as error:
            self.app.notify(f"Could not take it: {error}", severity="error")
            return
        self.show_taken(conversation_id)
