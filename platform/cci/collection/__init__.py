"""Collecting answers: campaigns, the channel contract, the one intake every channel stores
through, the web survey, imports, checklists and the data-quality rules."""
