"""Service settings, read from the environment with the ``DOLBOM_`` prefix (pydantic-settings)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class OfferPolicy(BaseModel):
    """The knobs of the offer loop; defaults meet the service target (see docs/offer-policy.md).

    mode "rounds" is the loop before waves, kept to compare against (the day simulator) and for a centre
    that wants it: one provider at a time (three at once when care starts within two hours), a fixed
    offer time, escalation after `Settings.max_offer_rounds` rounds, answers to expired offers refused,
    a bare "1" taken for the offer that expires first, and missed offers pausing a provider outright."""

    mode: Literal["waves", "rounds"] = "waves"
    target_minutes: float = Field(15, gt=0, description="minutes from the call to a confirmed place")
    offer_value: float = Field(12, gt=0, description="what a confirmation by the target is worth, in offers: "
                               "another provider is asked now when the chance waiting would lose, times this, "
                               "outweighs the chance that the offer would not be needed")
    urgent_minutes: float = Field(60, ge=0, description="care starting this soon is asked more widely")
    urgent_offer_value: float = Field(60, gt=0, description="offer_value for urgent care")
    urgent_max_open_offers: int = Field(6, ge=1, le=20, description="max_open_offers for urgent care")
    wave_seconds: int = Field(60, ge=10, description="how often an offered request is looked at again")
    max_open_offers: int = Field(3, ge=1, le=20, description="providers asked at once for one request")
    ask_everyone: bool = Field(False, description="ask every suitable provider at once (the bound the day "
                               "simulator measures the policy against; a centre may choose it)")
    last_few: int = Field(3, ge=0, le=20, description="when no more than this many suitable providers are left "
                          "untried, max_open_offers no longer holds them back (0: never)")
    offer_minutes: int = Field(30, ge=1, description="an offer's lifetime; a later accept is still honoured while the request is open")
    grace_minutes: float = Field(10, gt=0, description="the horizon once the target has passed")
    candidates: int = Field(12, ge=1, description="how many ranked providers the policy may draw on per wave")
    detour_km: float = Field(5.0, ge=0, description="a quicker provider this much farther than the nearest goes first")
    quick_minutes: float = Field(5, gt=0, description="the ranking weighs each provider's chance of accepting "
                                 "within this many minutes (capped at the time left to the target)")
    # the prior for a provider with little history: the province's observed shares and delays
    prior_accept: float = Field(0.6, gt=0, lt=1)
    prior_answer: float = Field(0.85, gt=0, le=1)
    prior_median_minutes: float = Field(4.0, gt=0)
    prior_sigma: float = Field(1.03, gt=0, description="log-normal spread of answer delays (median 4, p90 15 min)")
    # providers' shares differ by about ±0.1 around the mean (docs/offer-policy.md): a prior worth ten
    # offers, so that one lucky answer does not rank a provider first and overstate the chance it is asked on
    prior_weight: float = Field(10.0, ge=0, description="how many offers' worth of evidence the prior counts for")
    history_days: int = Field(90, ge=1)
    # similar providers (same kind, city and hours) price a new provider's first offers
    peer_weight: float = Field(20, ge=0, description="how many offers' worth a peer group's prior counts for")
    centre_weight: float = Field(50, ge=0, description="how many offers' worth the configured prior counts for "
                                 "against the centre's pooled record")
    peer_minutes: int = Field(10, ge=1, description="how long a computed peer prior is kept")
    # within the day: today's offers move the odds at once (hotline.offers.today)
    today_weight: float = Field(2.0, ge=1, description="a provider's offers of the last 24 hours count this many times")
    day_hours: float = Field(6, gt=0, description="the day's effect reads the centre's offers of these hours")
    day_offers: int = Field(150, ge=0, description="… at most this many, the newest (0: no day effect)")
    day_half_life_hours: float = Field(2, gt=0)
    day_prior_sd: float = Field(0.4, gt=0, description="how far a few offers may move the day's effect")
    pause_after_expired: int = Field(2, ge=1, description="offers in a row left to expire before a provider is paused")
    pause_minutes: int = Field(60, ge=0)

    def merged(self, overrides: dict | None) -> "OfferPolicy":
        return self.model_copy(update=overrides) if overrides else self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOLBOM_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'dolbom.db'}"
    secret_key: str = DEV_SECRET
    token_minutes: int = 8 * 60
    workspace_link_days: int = Field(30, ge=1, le=365)  # a provider's /p/ link; sending a new one revokes the old
    data_dir: Path = REPO_ROOT / "data"
    public_url: str = "http://127.0.0.1:8000"
    # proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated; "" believes none).
    # The per-client limits (sign-in, /apply codes) count by that address: a proxy listed here must set the
    # header itself, never pass on what the client sent.
    forwarded_allow_ips: str = "127.0.0.1"

    # Intake rules
    max_window_hours: float = 12.0
    max_days_ahead: int = 14
    past_start_grace_minutes: int = 15
    max_body_bytes: int = 64 * 1024

    # Offer loop: the policy (OfferPolicy above; its arithmetic is hotline.offers.policy) and, per city, fields that differ from it, e.g.
    # DOLBOM_OFFER_POLICY_BY_CITY='{"평택시": {"max_open_offers": 2}}'
    offer_policy: OfferPolicy = Field(default_factory=OfferPolicy)
    offer_policy_by_city: dict[str, dict] = Field(default_factory=dict)
    # the "rounds" policy (offer_policy.mode) reads these: one provider at a time, three rounds
    offer_minutes: int = 10
    parallel_offer_within_minutes: int = 120
    parallel_offer_count: int = 3
    max_offer_rounds: int = 3
    sweep_seconds: int = 30
    caregiver_lead_minutes: int = 120
    road_factor: float = 1.3
    speed_kmh: float = 30.0
    solver_time_limit_s: float = 1.0
    # a call's problem (intake, an answer, a wave) reads at most this many providers whose radius reaches it,
    # the nearest; the explanation still counts all of them and says the rest were not reviewed (issue 23)
    nearest_providers: int = Field(200, ge=1)

    # When care falls through (hotline.offers.fallthrough): no check-in this long after the start texts the
    # provider and raises the request on the board; this long lets the operator re-place it in one action
    no_show_minutes: int = Field(10, ge=1, le=120)
    no_show_replace_minutes: int = Field(20, ge=1, le=240)
    # a re-placement for care that has begun (or begins within this) starts this far ahead: nobody arrives
    # the minute they accept
    replacement_lead_minutes: int = Field(30, ge=0, le=240)
    # check-in opens this long before the start (the workspace, or "도착 A7" by SMS)
    checkin_early_minutes: int = Field(30, ge=0, le=240)

    # Places (hotline.places): every 읍·면·동 is offline; a street address goes to the Kakao Local API when
    # DOLBOM_GEOCODER=kakao and DOLBOM_GEOCODER_KEY (its REST API key) are set, else a request is placed
    # at its 동's point ("동 단위 위치"). Tests point geocoder_url at a local fake.
    geocoder: Literal["offline", "kakao"] = "offline"
    geocoder_key: str | None = None
    geocoder_url: str | None = None
    geocoder_timeout_s: float = Field(2.0, gt=0, le=30)
    # Travel (hotline.places.travel): road km and minutes from an OSRM-compatible table service when
    # DOLBOM_TRAVEL_URL is set (e.g. http://127.0.0.1:5000); without it, and whenever it fails, the great
    # circle × road_factor at speed_kmh. Short timeout: the intake waits for it while the parent is on the line.
    travel_url: str | None = None
    travel_timeout_s: float = Field(1.0, gt=0, le=30)

    # PIPA: personal data of finished requests is destroyed this long after care ends
    retention_days: int = 90
    access_log_days: int = 730  # access records are kept two years (sensitive data is processed)

    # SMS
    sms_backend: Literal["console", "twilio"] = "console"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str | None = None  # tests point the real client at a local fake
    on_duty_operator_phone: str | None = None
    # the number the parent's pages give wherever they say "call us" (applying by phone, a full code limit,
    # no provider found); the default is the demo's made-up number: set it in production
    hotline_number: str = Field("031-5550-0120", min_length=3, max_length=20, pattern=r"^[0-9][0-9-]*[0-9]$")

    # Demo account created by `dolbom serve` in development
    demo_operator_username: str = "operator"
    demo_operator_password: str = "dolbom-demo-1234"
    # the living demo: in development with the console SMS backend the demo providers answer offers
    # (accept, decline or stay silent, after a delay) as the day simulator's do, this many times faster
    demo_providers_answer: bool = True
    demo_answer_speedup: float = 4.0

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("DOLBOM_SECRET_KEY must be set (32+ characters) in production")
            if self.sms_backend == "console":
                raise ValueError("production sends real SMS: set DOLBOM_SMS_BACKEND=twilio")
        if self.geocoder == "kakao" and not self.geocoder_key:
            raise ValueError("the kakao geocoder needs DOLBOM_GEOCODER_KEY (a Kakao REST API key)")
        if self.sms_backend == "twilio" and not (self.twilio_account_sid and self.twilio_auth_token):
            raise ValueError("twilio backend needs DOLBOM_TWILIO_ACCOUNT_SID and DOLBOM_TWILIO_AUTH_TOKEN")
        return self


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.is_development and settings.secret_key == DEV_SECRET:
        # the repository's secret would let anyone who read it sign tokens: development signs with a
        # random secret of its own instead, kept beside the database so every worker and restart share it
        settings = settings.model_copy(update={"secret_key": development_secret(settings)})
    return settings


def development_secret(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    folder = Path(url.database).parent if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
        else REPO_ROOT / "var"
    path = folder / "dev-secret"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker wrote it first
    return path.read_text().strip()


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def exposed_development(settings: Settings, host: str) -> str | None:
    """Why these settings must not listen on `host`, if they must not: development seeds public demo
    passwords, so it answers on loopback only (issue 9, defect 14)."""
    if settings.is_development and host not in LOOPBACK and not host.startswith("127."):
        return (f"development settings (demo accounts with public passwords) only listen on 127.0.0.1, not {host}: "
                "set DOLBOM_ENVIRONMENT=production and DOLBOM_SECRET_KEY to serve on a network address")
    return None
