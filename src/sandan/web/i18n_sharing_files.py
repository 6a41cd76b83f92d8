"""Korean and English texts of file offers and previews (merged into `i18n.TEXTS`)."""

from __future__ import annotations

SHARING_FILE_TEXTS: dict[str, tuple[str, str]] = {
    "sharing_file_upload": (
        "CSV 또는 Parquet 파일 (최대 50MB)",
        "CSV or Parquet file (at most 50 MB)",
    ),
    "sharing_file_help": (
        "시간대 없는 시각은 공장 현지 시각으로 읽습니다. "
        "상대 기업은 계약 조건이 허용하는 열만 받습니다.",
        "Times without a zone are read as plant time. The other company gets only the "
        "columns the terms allow.",
    ),
    "sharing_file_received": ("받은 파일", "Received"),
    "sharing_need_file": ("CSV 또는 Parquet 파일을 올려 주세요", "Upload a CSV or Parquet file"),
    "sharing_file_too_large": ("파일이 50MB보다 큽니다", "The file is larger than 50 MB"),
    "sharing_show_preview": (
        "카탈로그에 미리보기(몇 행) 표시",
        "Show a preview (a few rows) in the catalogue",
    ),
    "sharing_preview": ("미리보기", "Preview"),
    "sharing_no_preview": ("미리보기 없음", "No preview"),
    "sharing_state_draft": ("초안", "Draft"),
}
