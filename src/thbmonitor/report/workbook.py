"""The XLSX workbook: one sheet per table, with title, header row, cells, legend and source.

Layout of each sheet (1-based rows): row 1 the table title, row 2 the header (display names in
the report's language), then one row per table row; after one blank row the legend of the
disclosure markers (marker in column A, meaning in column B), the note and the source. Counts
are numbers with a thousands format, markers are right-aligned strings, nothing is a formula
or a link.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from thbmonitor.report.formatting import column_decimals, is_percent_column, is_year_column
from thbmonitor.report.model import Table
from thbmonitor.report.page import locale
from thbmonitor.report.tables import sheet_names, table_cells

MARKER_KEYS = (("<10", "marker_lt10"), ("x", "marker_x"), ("–", "marker_zero"), (".", "marker_na"))


def write_workbook(tables: list[Table], path: Path, lang: str) -> dict[str, str]:
    """Write ``path`` and return the sheet name of each table key."""
    ui = locale(lang)
    names = sheet_names([t.key for t in tables])
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    try:
        fmt = {
            "title": workbook.add_format({"bold": True, "font_size": 13}),
            "header": workbook.add_format(
                {"bold": True, "bottom": 2, "text_wrap": True, "valign": "bottom"}
            ),
            "count": workbook.add_format({"num_format": "#,##0"}),
            "year": workbook.add_format({"num_format": "0"}),
            "marker": workbook.add_format({"align": "right"}),
            "text": workbook.add_format({}),
            "small": workbook.add_format({"italic": True, "font_color": "#444444"}),
            "legend_marker": workbook.add_format({"bold": True, "align": "right"}),
        }
        decimal_formats = {
            d: workbook.add_format({"num_format": "#,##0" + ("." + "0" * d if d else "")})
            for d in range(4)
        }
        for table, name in zip(tables, names, strict=True):
            sheet = workbook.add_worksheet(name)
            header, rows = table_cells(table)
            display = [table.columns[h](lang) if h in table.columns else h for h in header]
            sheet.write_string(0, 0, table.title(lang), fmt["title"])
            for col, text in enumerate(display):
                sheet.write_string(1, col, text, fmt["header"])
            for col, column in enumerate(header):
                values = [row[col] for row in rows]
                has_float = any(isinstance(v, float) for v in values)
                fixed = table.decimals.get(column)
                if is_year_column(column):
                    number_format = fmt["year"]
                elif is_percent_column(column):
                    number_format = decimal_formats[1 if fixed is None else min(fixed, 3)]
                elif has_float or fixed is not None:
                    number_format = decimal_formats[min(column_decimals(values, fixed), 3)]
                else:
                    number_format = fmt["count"]
                for offset, value in enumerate(values):
                    row = 2 + offset
                    if isinstance(value, int | float):
                        sheet.write_number(row, col, value, number_format)
                    elif value in ("<10", "x", "–", "."):
                        sheet.write_string(row, col, value, fmt["marker"])
                    else:
                        sheet.write_string(row, col, value, fmt["text"])
                width = max([len(display[col]), *(len(str(v)) for v in values)], default=8)
                sheet.set_column(col, col, min(max(width + 2, 8), 60))
            row = 2 + len(rows) + 1
            if table.legend:
                sheet.write_string(row, 0, ui["legend"], fmt["small"])
                row += 1
                for marker, key in MARKER_KEYS:
                    sheet.write_string(row, 0, marker, fmt["legend_marker"])
                    sheet.write_string(row, 1, ui[key], fmt["small"])
                    row += 1
            if table.note:
                sheet.write_string(row, 0, f"{ui['note']}: {table.note(lang)}", fmt["small"])
                row += 1
            sheet.write_string(row, 0, f"{ui['source']}: {table.source(lang)}", fmt["small"])
            sheet.freeze_panes(2, 0)
    finally:
        workbook.close()
    return dict(zip([t.key for t in tables], names, strict=True))
