"""Event lists (SPEC §6, §12): OGIP reading with calibrations and GTIs into the ONE event container
(:class:`EventList`), the event-file writer, event selection and the apparent-spectrum fit.

Modules: ``reading`` (:func:`read_events`, :class:`EventList`), ``ogip`` (headers and HDUs),
``gti`` (good time intervals), ``calibrations`` (channel → energy → wavelength), ``writing``
(:func:`write_event_file`), ``selection`` (band, crop, mask), ``spectrum_fit`` (§12) and
``examples`` (Chandra-like example files).
"""

from .calibrations import HC_KEV_NM, Calibration, detect_calibration, get_calibration
from .examples import ExampleObservation, write_chandra_like
from .gti import intersect_intervals, merge_intervals
from .ogip import OgipFile
from .reading import EventList, read_events
from .selection import UNSELECTED, select_events, selected_bins, wavelength_bins
from .spectrum_fit import SpectrumFit, fit_spectrum
from .writing import provenance_keywords, write_event_file

__all__ = [
    "HC_KEV_NM", "UNSELECTED", "Calibration", "EventList", "ExampleObservation", "OgipFile", "SpectrumFit",
    "detect_calibration", "fit_spectrum", "get_calibration", "intersect_intervals", "merge_intervals",
    "provenance_keywords", "read_events", "select_events", "selected_bins", "wavelength_bins", "write_chandra_like",
    "write_event_file",
]
