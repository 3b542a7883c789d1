"""Custom actions (rasa-sdk): the FAQ decision, small talk and the handoff to a ticket."""
