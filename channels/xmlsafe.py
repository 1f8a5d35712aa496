"""Safe XML parsing for WeChat pushes: no DTD, no entities, no external references."""
from __future__ import annotations

from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class XmlRejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def parse_flat(data: bytes | str) -> dict[str, str]:
    """<xml><A>..</A><B>..</B></xml> -> {"A": "..", "B": ".."}. Raises XmlRejected."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise XmlRejected("xml_empty", "empty body")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XmlRejected("xml_forbidden", f"forbidden XML construct: {exc.__class__.__name__}")
    except (ParseError, ValueError) as exc:
        raise XmlRejected("xml_malformed", f"malformed XML: {exc}")
    if root.tag != "xml":
        raise XmlRejected("xml_malformed", f"root element is <{root.tag}>, expected <xml>")
    return {child.tag: (child.text or "") for child in root}
