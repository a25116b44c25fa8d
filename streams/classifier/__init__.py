"""The escalation classifier: encoder, trained head, evidence, actors and severity."""
