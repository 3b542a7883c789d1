"""Custom actions (rasa-sdk): the FAQ decision, small talk and the handoff to a ticket."""

from bot.privacy.log_filter import install_redacting_filter

install_redacting_filter()  # the action server logs nothing personal (rasa-sdk imports this package first)

from actions.serving import prepare_process  # noqa: E402 - after the filter: nothing may log before it

prepare_process()  # the metrics endpoint, once per process (only in rasa-sdk's server, not in tests or tools)
