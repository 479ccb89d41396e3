"""Fill the `{{placeholder}}` tokens of Segment's endpoint-tester templates.

The tester replaces each token with fake data from the phony library; we do the
same with deterministic data when given a seeded `random.Random`, so tests can
send Segment's own events and find them again.
"""

from __future__ import annotations

import random
import re
import time
import uuid

TOKEN = re.compile(r"{{ *(([a-zA-Z0-9]+(\.[a-zA-Z0-9]+)?)+) *}}")

_FIRST = ("Ada", "Grace", "Alan", "Katherine", "Linus", "Barbara", "Dennis", "Radia")
_LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Liskov", "Ritchie", "Perlman")
_PRODUCTS = ("Monopoly: 3rd Edition", "Uno Card Game", "Go Board", "Chess Set", "Rubik's Cube")
_DOMAINS = ("example.com", "example.org", "example.net", "segment-demo.io")


def _fake(path: str, rng: random.Random) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    match path:
        case "id":
            return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(20))
        case "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        case "now.utc":
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{rng.randrange(1000):03d}Z"
        case "name":
            return f"{first} {last}"
        case "name.first":
            return first
        case "name.last":
            return last
        case "username":
            return f"{first.lower()}{rng.randrange(100)}"
        case "email":
            return f"{first.lower()}.{last.lower()}@{rng.choice(_DOMAINS)}"
        case "domain":
            return rng.choice(_DOMAINS)
        case "avatar":
            return f"https://{rng.choice(_DOMAINS)}/avatars/{rng.randrange(10**6)}.png"
        case "ipv4":
            return f"203.0.113.{rng.randrange(1, 255)}"
        case "double":
            return f"{rng.uniform(1, 100):.2f}"
        case "product.name":
            return rng.choice(_PRODUCTS)
    return f"{first} {last}"  # an unknown token still gets a plausible value


def fill(template: str, rng: random.Random | None = None) -> str:
    """The template with every `{{token}}` replaced by fake data of that kind."""
    rng = rng or random.Random()
    return TOKEN.sub(lambda match: _fake(match.group(1), rng), template)
