"""The provider registry: registration, changes, deactivation, a provider's commitments on a day, paused
providers, and the registry's API schemas. Uses the foundation, the tables, places and requests' schemas."""
