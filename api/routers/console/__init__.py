"""The operator console: the live board, the intake form used while the parent is on the phone, a request's
page and the operator's actions on it, the SMS outbox, providers, the map and the monthly figures.
Server-rendered HTML with small progressive enhancement (api/static/console.js); the work is done by
hotline.console and the offer loop. One module per page group; all of them add their routes to the one
`router` of `common`, in the order they are imported here."""

from api.routers.console import (board, care_changes, new_call, outbox, providers, reports,  # noqa: F401
                                 requests, sessions)
from api.routers.console.common import Operator, install, router, same_origin  # noqa: F401
