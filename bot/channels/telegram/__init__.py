"""The Telegram front (python-telegram-bot 22): a thin adapter over the dialogue core."""
