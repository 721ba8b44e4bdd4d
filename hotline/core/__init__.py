"""The foundation every package may use: the clock (UTC in storage, Seoul for people), settings (`DOLBOM_`),
domain errors (RFC 9457 in api/), the database engine, sessions and locks, signed short links, phone
parsing, the shared column types and the schema bases. Imports nothing else of the hotline."""
