"""Korean and English texts of the web pages. Korean is the default for a Korean complex."""

from __future__ import annotations

LANGUAGES = ("ko", "en")
LANG_COOKIE = "sandan_lang"

TEXTS: dict[str, tuple[str, str]] = {
    "app_title": ("산단 스마트 산업단지 플랫폼", "Sandan smart complex platform"),
    "login": ("로그인", "Log in"),
    "logout": ("로그아웃", "Log out"),
    "email": ("이메일", "Email"),
    "password": ("비밀번호", "Password"),
    "login_failed": ("로그인 실패", "Login failed"),
    "overview": ("단지 현황", "Complex overview"),
    "companies": ("입주기업", "Companies"),
    "company": ("기업", "Company"),
    "onboarding": ("기업 등록", "Onboarding"),
    "users": ("사용자", "Users"),
    "map": ("단지 지도", "Map of the complex"),
    "zones": ("단지별 기업 수", "Companies per zone"),
    "industries": ("업종별 기업 수", "Companies per industry"),
    "total_companies": ("입주기업 수", "Companies"),
    "your_company": ("우리 회사", "Your company"),
    "brn": ("사업자등록번호", "Business registration no."),
    "ksic": ("업종(KSIC)", "Industry (KSIC)"),
    "zone": ("단지", "Zone"),
    "employees": ("종업원 수", "Employees"),
    "address": ("주소", "Address"),
    "contacts": ("담당자", "Contacts"),
    "assets": ("설비 구성 (ISA-95)", "Asset tree (ISA-95)"),
    "sites": ("사업장", "Sites"),
    "search": ("검색", "Search"),
    "name": ("이름", "Name"),
    "role": ("역할", "Role"),
    "phone": ("전화", "Phone"),
    "upload_csv": ("CSV 파일 업로드", "Upload a CSV file"),
    "csv_help": (
        "열: brn, name, name_en, ksic, zone, address, employees, contact_name, contact_role, "
        "contact_phone, contact_email, site_name, site_address, lat, lon, footprint",
        "Columns: brn, name, name_en, ksic, zone, address, employees, contact_name, contact_role, "
        "contact_phone, contact_email, site_name, site_address, lat, lon, footprint",
    ),
    "imported": ("등록 완료", "Imported"),
    "rejected": ("오류 행", "Rejected lines"),
    "line": ("행", "Line"),
    "field": ("항목", "Field"),
    "reason": ("사유", "Reason"),
    "create_user": ("사용자 추가", "Add user"),
    "company_id": ("기업 ID", "Company ID"),
    "save": ("저장", "Save"),
    "active": ("활성", "Active"),
    "no_map": ("지도에 표시할 기업이 없습니다", "No footprints to show"),
    "forbidden": ("권한이 없습니다", "You may not open this page"),
    "not_found": ("찾을 수 없습니다", "Not found"),
    "open": ("열기", "Open"),
    "saved": ("저장되었습니다", "Saved"),
}


ROLE_NAMES: dict[str, tuple[str, str]] = {
    "complex_operator": ("단지 운영자", "Complex operator"),
    "company_admin": ("기업 관리자", "Company admin"),
    "company_member": ("기업 구성원", "Company member"),
    "safety_operator": ("안전 관제 요원", "Safety operator"),
    "logistics_operator": ("물류 운영자", "Logistics operator"),
    "auditor": ("감사인", "Auditor"),
}

# Korean names of the KSIC divisions that Gumi's industries fall in.
DIVISION_NAMES_KO: dict[str, str] = {
    "13": "섬유제품",
    "20": "화학물질·화학제품",
    "25": "금속가공제품",
    "26": "전자부품·컴퓨터·영상·통신장비",
    "27": "의료·정밀·광학기기",
    "28": "전기장비",
    "29": "기타 기계·장비",
    "30": "자동차·트레일러",
    "31": "기타 운송장비",
    "62": "컴퓨터 프로그래밍·시스템 통합",
}


def role_name(role: str, lang: str) -> str:
    ko, en = ROLE_NAMES.get(role, (role, role))
    return ko if lang == "ko" else en


def division_name(code: str, english: str, lang: str) -> str:
    """A KSIC division's name in the page's language (English from the code table)."""
    return DIVISION_NAMES_KO.get(code, english) if lang == "ko" else english


def t(key: str, lang: str) -> str:
    """The text for a key in the language; an unknown key shows as itself."""
    ko, en = TEXTS.get(key, (key, key))
    return ko if lang == "ko" else en
