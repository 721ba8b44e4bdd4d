"""SMS layer: segment counting, message templates and reply parsing, and the senders (console, Twilio)."""
