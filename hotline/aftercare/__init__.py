"""Aftercare: follow-up cases an operator must handle by a due date — opened by a low survey score or an
incident written in a provider's daily log. The case history belongs to the request. Imports nothing from
the other capability packages (applications and records call into it)."""
