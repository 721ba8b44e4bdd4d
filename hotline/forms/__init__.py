"""The district official's forms attached to a request: the service referral form (서비스 제공의뢰서) and the
site-visit checklist (현장확인 체크리스트), kept in the console and printable. Reading one is an access record."""
