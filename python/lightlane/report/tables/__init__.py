"""Result tables (SPEC §15): ``test_results`` summarised per pipeline and verdict (:mod:`.content`),
written as LaTeX, CSV and Markdown, one file per table and format (:mod:`.formats`)."""

from typing import TYPE_CHECKING

from ...lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .content import (
        GROUPS,
        TABLE_COLUMNS,
        TABLES,
        TableSection,
        build_sections,
        build_tables,
        empty_groups,
        headline_expr,
        headline_verdict,
        load_results,
        missing_sections,
    )
    from .formats import (
        FORMATS,
        TABLE_TITLES,
        WrittenTables,
        format_p,
        format_sig3,
        latex_escape,
        table_to_csv,
        table_to_latex,
        table_to_markdown,
        write_tables,
        write_workspace_tables,
    )

__all__ = [
    "GROUPS", "TABLES", "TABLE_COLUMNS", "TABLE_TITLES", "FORMATS", "TableSection", "WrittenTables",
    "load_results", "headline_verdict", "headline_expr", "build_tables", "build_sections", "empty_groups",
    "missing_sections", "write_tables", "write_workspace_tables", "table_to_latex", "table_to_csv",
    "table_to_markdown", "latex_escape", "format_sig3", "format_p",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".content": ["GROUPS", "TABLE_COLUMNS", "TABLES", "TableSection", "build_sections", "build_tables",
                 "empty_groups", "headline_expr", "headline_verdict", "load_results", "missing_sections"],
    ".formats": ["FORMATS", "TABLE_TITLES", "WrittenTables", "format_p", "format_sig3", "latex_escape",
                 "table_to_csv", "table_to_latex", "table_to_markdown", "write_tables", "write_workspace_tables"],
})
