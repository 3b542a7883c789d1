"""The web service: ticket API, chat proxy, demo page."""
