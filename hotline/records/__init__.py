"""Provider records: the provider's workspace (shifts, check-in/out with the handover code, the daily
service log with health details kept apart as sensitive data, adjustment requests the operator approves,
the service result). An incident in a log opens a follow-up case (hotline.aftercare)."""
