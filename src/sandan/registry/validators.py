"""Validators for Korean registry identifiers: business registration numbers and KSIC codes."""

from __future__ import annotations

import re

_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)

# The divisions (two-digit codes) of the 10th Korean Standard Industrial Classification (KSIC).
KSIC_DIVISIONS: dict[str, str] = {
    "01": "Agriculture",
    "02": "Forestry",
    "03": "Fishing",
    "05": "Mining of coal",
    "06": "Mining of metal ores",
    "07": "Mining of non-metallic minerals",
    "08": "Mining support",
    "10": "Food products",
    "11": "Beverages",
    "12": "Tobacco",
    "13": "Textiles",
    "14": "Wearing apparel",
    "15": "Leather and footwear",
    "16": "Wood products",
    "17": "Pulp and paper",
    "18": "Printing",
    "19": "Coke and refined petroleum",
    "20": "Chemicals",
    "21": "Pharmaceuticals",
    "22": "Rubber and plastics",
    "23": "Non-metallic mineral products",
    "24": "Basic metals",
    "25": "Fabricated metal products",
    "26": "Electronic components, computers, video and communication equipment",
    "27": "Medical, precision and optical instruments",
    "28": "Electrical equipment",
    "29": "Other machinery and equipment",
    "30": "Motor vehicles and trailers",
    "31": "Other transport equipment",
    "32": "Furniture",
    "33": "Other manufacturing",
    "34": "Industrial machinery repair",
    "35": "Electricity, gas and steam",
    "36": "Water supply",
    "37": "Sewage",
    "38": "Waste collection and recovery",
    "39": "Remediation",
    "41": "General construction",
    "42": "Specialised construction",
    "45": "Sale of motor vehicles",
    "46": "Wholesale trade",
    "47": "Retail trade",
    "49": "Land transport",
    "50": "Water transport",
    "51": "Air transport",
    "52": "Warehousing and transport support",
    "55": "Accommodation",
    "56": "Food and beverage service",
    "58": "Publishing",
    "59": "Film, video and sound",
    "60": "Broadcasting",
    "61": "Telecommunications",
    "62": "Computer programming and consultancy",
    "63": "Information services",
    "64": "Financial services",
    "65": "Insurance",
    "66": "Auxiliary financial services",
    "68": "Real estate",
    "70": "Research and development",
    "71": "Professional services",
    "72": "Architecture and engineering",
    "73": "Other scientific and technical services",
    "74": "Business facilities management",
    "75": "Business support services",
    "76": "Rental and leasing",
    "84": "Public administration",
    "85": "Education",
    "86": "Health",
    "87": "Social work",
    "90": "Creative arts",
    "91": "Sports and recreation",
    "94": "Associations",
    "95": "Repair of personal goods",
    "96": "Other personal services",
    "97": "Households as employers",
    "98": "Households producing for own use",
    "99": "Extraterritorial organisations",
}

_KSIC_RE = re.compile(r"^(?:[A-U])?([0-9]{2,5})$")


def normalize_brn(value: str) -> str:
    """Strip the usual separators from a business registration number (123-45-67890)."""
    return re.sub(r"[\s\-]", "", value)


def brn_check_digit(first_nine: str) -> int:
    """The check digit of a Korean business registration number (사업자등록번호)."""
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, _BRN_WEIGHTS, strict=True))
    total += (digits[8] * 5) // 10
    return (10 - total % 10) % 10


def brn_problem(value: str) -> str | None:
    """Why a business registration number is invalid, or None when it is valid."""
    brn = normalize_brn(value)
    if not re.fullmatch(r"[0-9]{10}", brn):
        return "must be 10 digits, e.g. 123-45-67891"
    if brn_check_digit(brn[:9]) != int(brn[9]):
        return "check digit does not match"
    return None


def format_brn(value: str) -> str:
    """Format a normalized business registration number as 123-45-67890."""
    brn = normalize_brn(value)
    return f"{brn[:3]}-{brn[3:5]}-{brn[5:]}"


def ksic_problem(value: str) -> str | None:
    """Why a KSIC code is invalid, or None when it is valid (section letter optional)."""
    match = _KSIC_RE.match(value.strip().upper())
    if match is None:
        return "must be 2 to 5 digits, optionally after a section letter, e.g. C26110"
    if match.group(1)[:2] not in KSIC_DIVISIONS:
        return f"unknown KSIC division {match.group(1)[:2]}"
    return None


def normalize_ksic(value: str) -> str:
    """The numeric part of a KSIC code: 'C26110' becomes '26110'."""
    match = _KSIC_RE.match(value.strip().upper())
    return match.group(1) if match else value.strip()


def ksic_division(code: str) -> str:
    """The two-digit division of a KSIC code."""
    return normalize_ksic(code)[:2]
