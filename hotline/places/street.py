"""Street addresses through a real geocoder: the Kakao Local API's address search (도로명 and 지번 addresses
in one call). Only the address text is sent, nothing else about the family. Every failure (not found,
timeout, 5xx, quota) is an answer, not an exception: the caller then places the request at the offline
동 point and flags it "동 단위 위치". Answers are cached per address, so one address is asked once."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Protocol

import httpx

from hotline.places.names import compact

log = logging.getLogger("dolbom.geocoder")

# Kakao's error code for "the allowed quota limit has been exceeded" (its common REST error table)
KAKAO_QUOTA_CODE = -10
# a street address is a 도로명 or 지번 address; REGION / ROAD are a 동 or a road name alone, no better than ours
STREET_TYPES = {"ROAD_ADDR", "REGION_ADDR"}


@dataclass(frozen=True)
class StreetAnswer:
    outcome: str  # found | not_found | timeout | error | quota | paused
    lat: float | None = None
    lon: float | None = None

    @property
    def found(self) -> bool:
        return self.outcome == "found"


class StreetGeocoder(Protocol):
    def locate(self, address: str) -> StreetAnswer: ...


class KakaoLocal:
    """`GET {base_url}/v2/local/search/address.json?query=…` with `Authorization: KakaoAK {key}`."""

    def __init__(self, key: str, *, base_url: str = "https://dapi.kakao.com", timeout_s: float = 2.0,
                 cache_size: int = 4096, quota_pause_s: float = 600.0,
                 monotonic: Callable[[], float] = time.monotonic, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.quota_pause_s = quota_pause_s
        self._monotonic = monotonic
        self._client = httpx.Client(timeout=timeout_s, headers={"Authorization": f"KakaoAK {key}"},
                                    transport=transport, trust_env=False)
        self._cache: OrderedDict[str, StreetAnswer] = OrderedDict()
        self._cache_size = cache_size
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.asked = 0  # requests actually sent (the cache's effect, for the tests and the log)

    def locate(self, address: str) -> StreetAnswer:
        key = compact(address)
        if not key:
            return StreetAnswer("not_found")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            if self._monotonic() < self._paused_until:
                return StreetAnswer("paused")
        answer = self._ask(address.strip())
        with self._lock:
            if answer.outcome in ("found", "not_found"):  # a definite answer; failures are asked again later
                self._cache[key] = answer
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            if answer.outcome == "quota":
                self._paused_until = self._monotonic() + self.quota_pause_s
        if not answer.found:
            # the outcome only: the address is personal data and stays out of the log
            log.info("street geocoder: %s, placing at the 동", answer.outcome)
        return answer

    def _ask(self, address: str) -> StreetAnswer:
        with self._lock:
            self.asked += 1
        try:
            res = self._client.get(f"{self.base_url}/v2/local/search/address.json",
                                   params={"query": address, "size": 1, "analyze_type": "exact"})
        except httpx.TimeoutException:
            return StreetAnswer("timeout")
        except httpx.HTTPError:
            return StreetAnswer("error")
        try:
            body = res.json()
        except ValueError:
            body = {}
        if res.status_code == 429 or (isinstance(body, dict) and body.get("code") == KAKAO_QUOTA_CODE):
            return StreetAnswer("quota")
        if res.status_code != 200 or not isinstance(body, dict):
            return StreetAnswer("error")
        for doc in body.get("documents") or []:
            if doc.get("address_type") not in STREET_TYPES:
                continue
            try:
                return StreetAnswer("found", lat=float(doc["y"]), lon=float(doc["x"]))
            except (KeyError, TypeError, ValueError):
                return StreetAnswer("error")
        return StreetAnswer("not_found")

    def close(self) -> None:
        self._client.close()


def street_geocoder(settings) -> StreetGeocoder | None:
    """The adapter the settings ask for (DOLBOM_GEOCODER=kakao and DOLBOM_GEOCODER_KEY), else None."""
    if settings.geocoder != "kakao" or not settings.geocoder_key:
        return None
    return KakaoLocal(settings.geocoder_key, base_url=settings.geocoder_url or "https://dapi.kakao.com",
                      timeout_s=settings.geocoder_timeout_s)
