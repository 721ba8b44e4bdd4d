"""Demo data and simulated providers: seed providers and accounts, the demo day's calls, the living demo's
answers, and how simulated providers behave (shared with the day simulator in bench/). Never used by
production code paths; sits above the offer loop it drives."""
