"""Understanding messages: the Rasa NLU server (trained and run by us) and language detection."""
