"""Where people are: the place table (cities and Pyeongtaek's 동 from data/), the geocoder interface and the
service-area check. Pure: no database."""
