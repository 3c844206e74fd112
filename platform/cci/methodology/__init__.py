"""What a methodology set is: its contract (items, indicators, the questionnaire it asks), the
figures it computes with, how values written by people are read, and how two versions differ.

Channels validate answers against it and the index computes with it; it knows neither."""
