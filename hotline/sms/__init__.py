"""Texts: segment counting, message templates and reply parsing, the senders (console, Twilio), and the
outbox — rows written in the transaction that causes them, dispatched with reconcile-before-resend. Uses the
foundation, the tables and privacy's masking."""
