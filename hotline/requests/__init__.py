"""Care requests: intake (validation, consent, idempotent create, list), the lifecycle state machine (every
move a recorded event), the children's age rules, and the privacy-aware read models of a request. Uses the
foundation, the tables, places, privacy and sms templates; knows nothing of the offer loop."""
