"""The device combos' filling, shared by the main window's top bar and the settings dialog.

Apart from `settings_dialog` so that the main window does not load the dialog until it is opened.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox


def _device_label(dev: Any) -> str:
    label = dev.name
    if getattr(dev, "is_monitor", False):
        label += "  (caller audio)"
    if getattr(dev, "is_default", False):
        label += "  (default)"
    return label


def fill_device_combo(combo: QComboBox, devices: list[Any], selected: str, *, allow_none: bool) -> None:
    """Fill a combo with input devices (item data = device name) and select `selected` if present."""
    combo.blockSignals(True)
    combo.clear()
    if allow_none:
        combo.addItem("None (agent only)", "")
    else:
        combo.addItem("System default", "")
    for dev in devices:
        combo.addItem(_device_label(dev), dev.name)
        if getattr(dev, "is_monitor", False):
            combo.setItemData(combo.count() - 1, "Looks like a loopback/monitor: the other side of the call", Qt.ItemDataRole.ToolTipRole)
    index = combo.findData(selected) if selected else 0
    if index < 0:  # a device that is gone now: keep it visible, so the choice is not silently lost
        combo.addItem(f"{selected}  (not connected)", selected)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
    combo.blockSignals(False)


__all__ = ["fill_device_combo"]
