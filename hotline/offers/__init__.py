"""The offer loop: match a request (through `adapter`, the bridge to the pure `matching` solver), offer it in
waves (`policy`: the odds and wave sizes), take answers by SMS (`inbound`) or link (`answers`), expire,
re-plan, escalate, run the day of care (`care_day`), and cancel (`cancel`). Uses requests, providers,
aftercare, sms and everything below them.

The names below are the package's public face for the API, the jobs and tests (`offers.take_call`);
modules inside the package import each other directly."""

from hotline.offers.answers import (Outcome, after_offer_closed, answer, care_place, due_offers,  # noqa: F401
                                    expire_offer, late_answerable, sweep)
from hotline.offers.cancel import cancel_request, release_for_cancel  # noqa: F401
from hotline.offers.care_day import run_care_day  # noqa: F401
from hotline.offers.loop import (OfferContext, due_waves, escalate, make_offer, match, offer_wave,  # noqa: F401
                                 retry, retry_waiting, run_wave, start_matching, take_call)
