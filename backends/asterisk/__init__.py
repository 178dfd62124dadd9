"""The phone queue on a real Asterisk, over ARI (docs/asterisk.md).

How it maps onto the contract (backends/base.py), in short: phone and callback channels. A call that enters
the Stasis application with a queue argument is a ringing phone conversation (its id is the customer's
channel id); accept rings the agent's phone endpoint and bridges it with the caller; hold takes the caller
out of the bridge onto hold music; mute mutes the agent's leg; transfer rings another agent's phone or puts
the caller back in a queue; a caller who hangs up while waiting is abandoned. Notes, wrap-ups, callback
requests and command keys are kept in a local SQLite file, since Asterisk keeps none. snapshot = the calls as
last seen, matched against `GET /channels` and `/bridges` after each connect; events = the ARI websocket.
"""

from .adapter import AsteriskBackend
from .settings import AsteriskSettings, parse_settings

__all__ = ["AsteriskBackend", "AsteriskSettings", "parse_settings"]
