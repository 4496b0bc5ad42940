"""Event lists (SPEC §6, §12): OGIP reading with calibrations and GTIs into the ONE event container
(:class:`EventList`), the event-file writer, event selection and the apparent-spectrum fit.

Modules: ``event_list`` (:class:`EventList`), ``reading`` (:func:`read_events`), ``ogip`` (headers and HDUs),
``gti`` (good time intervals), ``calibrations`` (channel → energy → wavelength), ``writing``
(:func:`write_event_file`), ``selection`` (band, crop, mask; the select-then-fit recipe), ``spectrum_fit`` (§12) and
``examples`` (Chandra-like example files).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .calibrations import HC_KEV_NM, Calibration, detect_calibration, get_calibration
    from .examples import ExampleObservation, write_chandra_like
    from .gti import intersect_intervals, merge_intervals
    from .ogip import OgipFile
    from .event_list import KNOWN_COLUMNS, EventList, FileRead
    from .reading import read_events
    from .selection import UNSELECTED, fit_selected_spectrum, select_events, selected_bins, wavelength_bins
    from .spectrum_fit import SpectrumFit, fit_spectrum
    from .writing import provenance_keywords, write_event_file

__all__ = [
    "HC_KEV_NM", "KNOWN_COLUMNS", "UNSELECTED", "Calibration", "EventList", "ExampleObservation", "FileRead",
    "OgipFile", "SpectrumFit", "detect_calibration", "fit_selected_spectrum", "fit_spectrum", "get_calibration", "intersect_intervals", "merge_intervals",
    "provenance_keywords", "read_events", "select_events", "selected_bins", "wavelength_bins", "write_chandra_like",
    "write_event_file",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".calibrations": ["HC_KEV_NM", "Calibration", "detect_calibration", "get_calibration"],
    ".examples": ["ExampleObservation", "write_chandra_like"],
    ".gti": ["intersect_intervals", "merge_intervals"],
    ".ogip": ["OgipFile"],
    ".event_list": ["KNOWN_COLUMNS", "EventList", "FileRead"],
    ".reading": ["read_events"],
    ".selection": ["UNSELECTED", "fit_selected_spectrum", "select_events", "selected_bins", "wavelength_bins"],
    ".spectrum_fit": ["SpectrumFit", "fit_spectrum"],
    ".writing": ["provenance_keywords", "write_event_file"],
})
