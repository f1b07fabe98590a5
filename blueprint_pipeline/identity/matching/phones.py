"""Phone numbers to E.164 with `phonenumbers`, so that `(415) 555-0100`, `415.555.0100` and
`+1 415 555 0100` compare equal. A number without a country code is read in the record's country
when it is known (United States when not: most CRM numbers without a code are North American)."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "US"


def region_codes(countries: dict[str, str]) -> dict[str, str]:
    """Country spelling (lower case) -> ISO region, from the seed `country_names` (alias ->
    country): a country's two-letter alias that phonenumbers knows (gb for United Kingdom; `uk`
    is no region)."""
    regions: dict[str, str] = {}
    by_country: dict[str, str] = {}
    for alias, country in countries.items():
        code = alias.strip().upper()
        if len(code) == 2 and code in phonenumbers.SUPPORTED_REGIONS:
            by_country.setdefault(country, code)
    for alias, country in countries.items():
        if country in by_country:
            regions[alias.strip().lower()] = by_country[country]
            regions[country.strip().lower()] = by_country[country]
    return regions


@lru_cache(maxsize=200_000)
def to_e164(raw: str | None, region: str | None) -> str | None:
    """'(415) 555-0100' in US -> '+14155550100'; None for empty or unparseable text (a number too
    short or too long for its region is no number: it cannot match anyone reliably)."""
    if raw is None or not str(raw).strip():
        return None
    try:
        number = phonenumbers.parse(str(raw), region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
