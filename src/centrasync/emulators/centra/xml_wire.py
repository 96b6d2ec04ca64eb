"""The Order API's ``xml=1`` answer: the same document as the JSON one, written as XML.

[I] Centra documents that every endpoint takes ``xml`` but shows no XML answer. The form
chosen here is the usual one of a PHP array written out as XML: a ``<response>`` root, one
element per key, ``<item>`` per list entry, and ``<item key="…">`` where a key is no XML
name (``"43001"``, a lineId keying an object). ``true``/``false`` for flags given as
booleans, an empty element for ``null``.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

__all__ = ["xml_document"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            name = str(key)
            if _NAME.match(name) and not name.lower().startswith("xml"):
                sub = ElementTree.SubElement(element, name)
            else:
                sub = ElementTree.SubElement(element, "item", key=name)
            _fill(sub, child)
    elif isinstance(value, list):
        for child in value:
            _fill(ElementTree.SubElement(element, "item"), child)
    else:
        element.text = _text(value)


def xml_document(data: Any) -> bytes:
    root = ElementTree.Element("response")
    _fill(root, data)
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
