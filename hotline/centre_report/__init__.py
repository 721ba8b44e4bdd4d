"""The centre report the province asks of each city's 언제나 돌봄 centre, per month: providers, calls by
channel, placements, times to confirmation, reasons for non-placement, cancellations, satisfaction and
follow-up cases — one set of figures behind the console page, its SVG charts, the CSV and the XLSX."""
