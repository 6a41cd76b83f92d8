"""Korean and English texts of the data-quality page (merged into `i18n.TEXTS`)."""

from __future__ import annotations

QUALITY_TEXTS: dict[str, tuple[str, str]] = {
    "dq_title": ("데이터 품질", "Data quality"),
    "dq_link": ("데이터 품질", "Data quality"),
    "dq_intro": (
        "태그별 일일 데이터 품질 점수(0-100, UTC 일자) = 100 × (0.4 × 완전성 + 0.4 × 유효성 + "
        "0.2 × 연속성). 오늘은 지금까지를 기준으로 판정합니다. 칸에 마우스를 올리면 세부 값이, "
        "행을 누르면 일자별 표와 최근 24시간 공백이 보입니다.",
        "Daily data-quality score per tag (0-100, UTC days) = 100 × (0.4 × completeness + "
        "0.4 × validity + 0.2 × continuity). Today is judged up to now. Hover a cell for its "
        "shares and counts; click a row for its days and its gaps of the last 24 hours.",
    ),
    "dq_machine": ("설비", "Machine"),
    "dq_all_machines": ("전체 설비", "All machines"),
    "dq_no_machine": ("설비 미지정", "no machine"),
    "dq_sort_worst": ("낮은 점수 순", "Worst first"),
    "dq_sort_machine": ("설비별", "By machine"),
    "dq_tag": ("태그", "Tag"),
    "dq_mean": ("7일 평균", "7-day mean"),
    "dq_tags": ("태그 수", "Tags"),
    "dq_today_mean": ("오늘 평균 점수", "Mean score today"),
    "dq_below": ("오늘 80점 미만 태그", "Tags below 80 today"),
    "dq_gaps_24h": ("최근 24시간 공백", "Gaps, last 24 hours"),
    "dq_heatmap": ("태그 × 일자 품질 점수", "Score by tag and day"),
    "dq_legend_none": ("수신 없음", "nothing received"),
    "dq_no_tags": ("숫자형 태그가 없습니다.", "No numeric tags."),
    "dq_completeness": ("완전성", "Completeness"),
    "dq_validity": ("유효성", "Validity"),
    "dq_continuity": ("연속성", "Continuity"),
    "dq_score": ("점수", "Score"),
    "dq_day": ("일자 (UTC)", "Day (UTC)"),
    "dq_expected": ("예상", "Expected"),
    "dq_received": ("수신", "Received"),
    "dq_good": ("정상", "Good"),
    "dq_suspect": ("의심", "Suspect"),
    "dq_bad": ("불량", "Bad"),
    "dq_rejected": ("거부", "Rejected"),
    "dq_detail": ("태그 상세", "Tag detail"),
    "dq_pick_row": ("위 표에서 태그 행을 누르세요.", "Click a tag's row above."),
    "dq_start": ("시작", "Start"),
    "dq_end": ("끝", "End"),
    "dq_duration": ("기간", "Duration"),
    "dq_missing": ("누락 판독", "Missing readings"),
    "dq_ongoing": ("진행 중", "Ongoing"),
    "dq_yes": ("예", "yes"),
    "dq_no_gaps": ("최근 24시간 동안 공백이 없습니다.", "No gaps in the last 24 hours."),
    "dq_gaps_newest": (
        "최신 {n}건까지, 시작 시각이 늦은 순 ({tz})",
        "Newest {n} at most, latest start first ({tz})",
    ),
    "dq_rejects_link": (
        "거부된 판독값과 사유 (API, JSON)",
        "Rejected readings with their reasons (API, JSON)",
    ),
    "dq_anomalies_note": (
        "이상치는 이벤트(telemetry.anomaly)로만 알리고 저장하지 않아 "
        "이 페이지에 표시하지 않습니다.",
        "Anomalies are announced as events (telemetry.anomaly) but not stored, so this page "
        "does not list them.",
    ),
}
