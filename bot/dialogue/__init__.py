"""The dialogue core: transport-free and async.

Plain data in (``Incoming``), plain data out (``Outcome``).
"""

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Button, Incoming, OpenTicket, Outcome, Reply

__all__ = ["Button", "Engine", "Incoming", "OpenTicket", "Outcome", "Reply"]
