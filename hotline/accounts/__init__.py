"""Staff accounts: password hashing, sign-in with its throttle, bearer tokens, and the sign-in schemas.
Uses only the foundation and the tables."""
