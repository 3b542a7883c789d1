"""Custom actions (rasa-sdk): the FAQ decision, small talk and the handoff to a ticket."""

from bot.privacy.log_filter import install_redacting_filter

install_redacting_filter()  # the action server logs nothing personal (rasa-sdk imports this package first)
