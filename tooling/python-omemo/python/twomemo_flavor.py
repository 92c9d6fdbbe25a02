"""OMEMO 2 (urn:xmpp:omemo:2) for omemo_harness.py: python-twomemo (Debian's python3-twomemo)."""
import xml.etree.ElementTree as ET

import omemo
import twomemo
import twomemo.etree

from omemo_harness import Flavor


async def _parse_message(element: ET.Element, sender: str, own_jid: str, sm: omemo.SessionManager) -> omemo.Message:
    return twomemo.etree.parse_message(element, sender)


FLAVOR = Flavor(
    name="twomemo",
    namespace=twomemo.twomemo.NAMESPACE,
    version=twomemo.version.__version__["short"],
    make_backend=twomemo.Twomemo,
    serialize_bundle=twomemo.etree.serialize_bundle,
    parse_bundle=twomemo.etree.parse_bundle,
    serialize_device_list=twomemo.etree.serialize_device_list,
    parse_device_list=twomemo.etree.parse_device_list,
    serialize_message=twomemo.etree.serialize_message,
    parse_message=_parse_message,
    # as the OMEMO 2 harness always did: the sender's published device list is read first
    refresh_sender_before_decrypt=True,
)
