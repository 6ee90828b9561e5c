"""Safety and privacy: pseudonyms, the secret key, (later) crisis detection and abuse reports."""
