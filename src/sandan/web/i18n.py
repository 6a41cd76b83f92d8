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
    # --- complex benchmarks (web/sharing_benchmarks.py) ---
    "bench_title": ("단지 벤치마크", "Complex benchmarks"),
    "bench_back": ("데이터 공유", "Data sharing"),
    "bench_intro": (
        "같은 업종, 같은 단지 기업들과 비교한 지표입니다. {k}곳 이상이 참여하고 한 기업의 비중이 "
        "{share}를 넘지 않을 때만 공개되며, 어느 기업의 값도 다른 기업에게 보이지 않습니다. "
        "우리 회사는 자기 위치(백분위)만 봅니다.",
        "How companies of one industry or one zone compare. A figure is shown only when at least "
        "{k} companies contribute and none makes up more than {share} of it; no company's own "
        "value is shown to anyone. Your company sees only its own position (percentile).",
    ),
    "bench_window_days": ("최근 {n}일", "Last {n} days"),
    "bench_metric_oee": ("설비종합효율 (OEE)", "Overall equipment effectiveness (OEE)"),
    "bench_metric_kwh_per_good_unit": ("양품당 전력량 (kWh)", "Energy per good unit (kWh)"),
    "bench_metric_data_quality": ("데이터 품질 점수 (0-100)", "Data-quality score (0-100)"),
    "bench_weight_busy": ("계획 가동 시간으로 가중", "weighted by planned busy time"),
    "bench_weight_good": ("양품 수로 가중", "weighted by good units"),
    "bench_weight_one": ("기업마다 같은 비중", "each company counts once"),
    "bench_by_industry": ("업종별", "By industry"),
    "bench_by_zone": ("단지별", "By zone"),
    "bench_group": ("구분", "Group"),
    "bench_contributors": ("참여 기업", "Companies"),
    "bench_mean": ("평균", "Mean"),
    "bench_p25": ("하위 25%", "25th pct."),
    "bench_median": ("중앙값", "Median"),
    "bench_p75": ("상위 25%", "75th pct."),
    "bench_status": ("상태", "Status"),
    "bench_published": ("공개", "Published"),
    "bench_noisy": ("공개 (차등 프라이버시 잡음 포함)", "Published (differential-privacy noise)"),
    "bench_none": ("이 기간에 참여한 기업이 없습니다", "No company contributes in this window"),
    "bench_position": ("우리 회사 위치", "Your position"),
    "bench_percentile": ("백분위 {n}", "{n} percentile"),
    "bench_not_contributing": (
        "이 기간의 데이터가 없어 참여하지 않았습니다",
        "not contributing (no data in this window)",
    ),
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
