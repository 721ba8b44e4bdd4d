"""Online applications: a parent applies on a public phone-sized page, proves the phone with a one-time SMS
code, and the request enters the same intake and offer loop as a call (hotline.offers.take_call)."""

ONLINE_ACTOR = "online:parent"


def channel_of(created_by: str) -> str:
    """전화 or 온라인: how the request reached us (an online application is created by ONLINE_ACTOR)."""
    return "온라인" if created_by.startswith("online:") else "전화"
