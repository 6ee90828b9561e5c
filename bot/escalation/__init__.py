"""Tickets for human consultants: opening, waiting, the consultants' workspace, the numbers."""
